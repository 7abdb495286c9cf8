"""AsyncEventStore: the same methods, arguments and answers as EventStore, awaited."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

import eventstore_core
from eventstore_core import (
    ConcurrencyError,
    ConfigurationError,
    DomainEvent,
    EventStore,
    InMemoryActiveRecordStrategy,
    InvalidEventError,
    ItemNotFound,
    plugins,
)
from eventstore_core.aio import (
    AsyncCatchUpSubscription,
    AsyncEventStore,
    AsyncInMemoryActiveRecordStrategy,
    AsyncRepository,
    AsyncSnapshotStrategy,
)


def events(sequence_id: Any, count: int, start: int = 0) -> list[DomainEvent]:
    return [DomainEvent(originator_id=sequence_id, originator_version=v, n=v)
            for v in range(start, start + count)]


def test_from_config_takes_a_name_or_a_configuration_string() -> None:
    for backend in ("memory", "memory://"):
        store = AsyncEventStore.from_config(backend)
        assert isinstance(store, AsyncEventStore)
        assert isinstance(store.active_record_strategy, AsyncInMemoryActiveRecordStrategy)


def test_from_config_reads_the_environment_as_the_sync_store_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVENTSTORE_URL", "memory://?position_attr_name=version")
    store = AsyncEventStore.from_config()
    assert isinstance(store.active_record_strategy, AsyncInMemoryActiveRecordStrategy)
    assert store.sequenced_item_mapper.position_attr_name == "version"
    monkeypatch.setenv("EVENTSTORE_URL", "memory://?no_such_option=1")
    with pytest.raises(ConfigurationError, match="no_such_option") as async_error:
        AsyncEventStore.from_config()
    with pytest.raises(ConfigurationError, match="no_such_option") as sync_error:
        EventStore.from_config()
    assert str(async_error.value) == str(sync_error.value)


def test_from_config_with_a_cipher_encrypts_as_the_sync_store_does() -> None:
    key = base64.b64encode(bytes(32)).decode()
    if "aes" not in plugins.ciphers():
        pytest.skip("eventstore-aes is not installed")

    async def main() -> None:
        store = AsyncEventStore.from_config(f"memory://?cipher=aes&cipher_key={key}")
        sequence_id = uuid4()
        event = DomainEvent(originator_id=sequence_id, originator_version=0, pin="4111")
        await store.append(event)
        (item,) = await store.active_record_strategy.get_items(sequence_id)
        assert "4111" not in item.data
        # the sync store with the same key reads what the async one wrote
        sync = EventStore(store.sequenced_item_mapper, store.active_record_strategy.store)
        assert sync.get_domain_events(sequence_id) == [event]
        assert await store.get_domain_events(sequence_id) == [event]

    asyncio.run(main())


def test_a_backend_without_an_async_factory_is_named() -> None:
    class SyncOnly:
        @staticmethod
        @eventstore_core.hookimpl
        def register_backends(register: Callable[..., None]) -> None:
            register("sync-only", InMemoryActiveRecordStrategy)

    plugins.pm.register(SyncOnly, name="sync-only-test")
    try:
        assert isinstance(EventStore.from_config("sync-only"), EventStore)
        with pytest.raises(ConfigurationError, match="'sync-only'.*no async_factory"):
            AsyncEventStore.from_config("sync-only")
    finally:
        plugins.pm.unregister(name="sync-only-test")


def test_an_async_factory_that_is_not_callable_is_refused() -> None:
    class Broken:
        @staticmethod
        @eventstore_core.hookimpl
        def register_backends(register: Callable[..., None]) -> None:
            register("broken-async", InMemoryActiveRecordStrategy, async_factory="nope")

    plugins.pm.register(Broken, name="broken-async-test")
    try:
        with pytest.raises(ConfigurationError, match="broken-async.*not callable"):
            AsyncEventStore.from_config("broken-async")
    finally:
        plugins.pm.unregister(name="broken-async-test")


def test_every_method_answers_as_the_sync_store_does() -> None:
    sync = EventStore.from_config("memory")
    shared = sync.active_record_strategy
    assert isinstance(shared, InMemoryActiveRecordStrategy)
    store = AsyncEventStore(sync.sequenced_item_mapper,
                            AsyncInMemoryActiveRecordStrategy(store=shared))

    async def main() -> None:
        first, second = uuid4(), uuid4()
        await store.append(events(first, 6))  # a list
        await store.append(events(second, 1)[0])  # one
        reads: list[dict[str, Any]] = [
            {}, {"gt": 1}, {"gte": 2, "lt": 5}, {"lte": 3, "limit": 2},
            {"limit": 2, "is_ascending": False}, {"limit": 0},
        ]
        for arguments in reads:
            assert await store.get_domain_events(first, **arguments) == \
                sync.get_domain_events(first, **arguments), arguments
        assert await store.get_domain_event(first, 3) == sync.get_domain_event(first, 3)
        assert await store.get_most_recent_event(first, lt=4) == events(first, 6)[3]
        assert await store.get_most_recent_event(uuid4()) is None
        with pytest.raises(ItemNotFound):
            await store.get_domain_event(first, 99)
        with pytest.raises(ConcurrencyError, match=str(first)):
            await store.append(events(first, 2, start=5))
        assert len(await store.get_domain_events(first)) == 6  # nothing of that list
        with pytest.raises(InvalidEventError, match="NoneType"):
            await store.append([events(first, 1, start=6)[0], None])
        with pytest.raises(InvalidEventError, match="limit"):
            await store.get_domain_events(first, limit=-1)
        with pytest.raises(InvalidEventError, match="page_size"):
            store.all_domain_events(page_size=0)  # refused at once, before iterating
        everything = [event async for event in store]
        assert everything == list(sync)
        paged = [event async for event in store.all_domain_events(page_size=2)]
        assert paged == everything
        async with store:
            pass

    asyncio.run(main())


def test_read_all_and_the_subscription_as_an_async_iterator() -> None:
    strategy: AsyncInMemoryActiveRecordStrategy[Any] = AsyncInMemoryActiveRecordStrategy()
    sequence_id = uuid4()
    item = strategy.sequenced_item_class

    async def writer() -> None:
        for position in range(20):
            await strategy.append(item(sequence_id, position, "t#T", "{}"))
            await asyncio.sleep(0.001)

    async def main() -> list[int]:
        subscription = AsyncCatchUpSubscription(strategy, page_size=3, timeout=5)
        task = asyncio.create_task(writer())
        seen = []
        async for ordered in subscription:
            seen.append(ordered.item.position)
            if len(seen) == 20:
                subscription.stop()
        await task
        assert subscription.position == 20
        assert [o.global_position for o in await strategy.read_all(after=18)] == [19, 20]
        return seen

    assert asyncio.run(main()) == list(range(20))


def test_a_waiting_subscription_is_woken_by_a_sync_writer_in_another_thread() -> None:
    shared: InMemoryActiveRecordStrategy[Any] = InMemoryActiveRecordStrategy()
    strategy = AsyncInMemoryActiveRecordStrategy(store=shared)
    sequence_id = uuid4()

    async def main() -> int:
        subscription = AsyncCatchUpSubscription(strategy, timeout=30, poll_interval=30)
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, lambda: loop.run_in_executor(None, shared.append, shared
                        .sequenced_item_class(sequence_id, 0, "t#T", "{}")))
        async for ordered in subscription:
            subscription.stop()
            return ordered.global_position
        return 0

    # without the wake-up it would wait poll_interval=30s and the test would time out
    assert asyncio.run(asyncio.wait_for(main(), timeout=10)) == 1


def test_snapshots_async() -> None:
    store = AsyncEventStore.from_config("memory")
    snapshots = AsyncSnapshotStrategy(AsyncEventStore.from_config("memory"))

    def mutate(state: dict[str, int] | None, event: Any) -> dict[str, int]:
        total = (state or {"total": 0})["total"] + event.n
        return {"total": total, "version": event.originator_version}

    async def main() -> None:
        repository = AsyncRepository(store, mutate, snapshots, snapshot_every=10)
        sequence_id = uuid4()
        await repository.save(events(sequence_id, 25))
        snapshot = await snapshots.get_snapshot(sequence_id)
        assert snapshot is not None and snapshot.originator_version == 19  # type: ignore[attr-defined]
        with_snapshot = await repository.get(sequence_id)
        assert with_snapshot == await repository.get(sequence_id, use_snapshots=False)
        assert with_snapshot == {"total": sum(range(25)), "version": 24}
        assert await repository.get(sequence_id, lte=12) == {"total": sum(range(13)),
                                                              "version": 12}
        with pytest.raises(ItemNotFound):
            await repository.get(uuid4())

    asyncio.run(main())


def test_a_cancelled_subscription_leaves_no_waiter_behind() -> None:
    strategy: AsyncInMemoryActiveRecordStrategy[Any] = AsyncInMemoryActiveRecordStrategy()

    async def follow() -> None:
        async for _ in AsyncCatchUpSubscription(strategy, poll_interval=30):
            pass

    async def main() -> None:
        task = asyncio.create_task(follow())
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(strategy.store._wakers) == 1  # it waits to be woken, not polling
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert strategy.store._wakers == set()
        sequence_id = uuid4()
        await strategy.append(strategy.sequenced_item_class(sequence_id, 0, "t#T", "{}"))
        assert len(await strategy.get_items(sequence_id)) == 1

    asyncio.run(main())


def test_sync_and_async_strategies_refuse_bad_input_with_the_same_message() -> None:
    sync: InMemoryActiveRecordStrategy[Any] = InMemoryActiveRecordStrategy()
    strategy = AsyncInMemoryActiveRecordStrategy(store=sync)
    sequence_id = uuid4()
    item = sync.sequenced_item_class
    bad_calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
        ("append", (item(sequence_id, "1", "t#T", "{}"),), {}),
        ("append", ([item(sequence_id, 0, "t#T", "{}")] * 2,), {}),
        ("get_items", (12345,), {}),
        ("get_items", ("",), {}),
        ("get_items", (str(sequence_id),), {}),
        ("append", (item(sequence_id, 0, "t#T", "{}"),), {"expected_version": -1}),
        ("read_all", (0, 10), {"category": "a-b"}),
        ("get_items", (sequence_id,), {"gt": "a"}),
        ("get_items", (sequence_id,), {"limit": 1.5}),
    ]

    async def main() -> None:
        for name, args, kwargs in bad_calls:
            with pytest.raises(InvalidEventError) as sync_error:
                getattr(sync, name)(*args, **kwargs)
            with pytest.raises(InvalidEventError) as async_error:
                await getattr(strategy, name)(*args, **kwargs)
            assert str(async_error.value) == str(sync_error.value), name
        assert sync.get_items(sequence_id) == []

    asyncio.run(main())


def test_a_shared_store_gives_its_item_class_and_position_type() -> None:
    from decimal import Decimal

    from eventstore_core import StoredEvent

    shared: InMemoryActiveRecordStrategy[Any] = InMemoryActiveRecordStrategy(
        sequenced_item_class=StoredEvent, position_type=Decimal)
    view = AsyncInMemoryActiveRecordStrategy(store=shared)
    assert (view.sequenced_item_class, view.position_type) == (StoredEvent, Decimal)
    with pytest.raises(ConfigurationError, match="either store= or"):
        AsyncInMemoryActiveRecordStrategy(position_type=Decimal, store=shared)
