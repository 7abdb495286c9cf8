"""The backend kit in its async form on a real Cassandra: every test of the sync kit (the
same definitions) and the async-only ones (many tasks at once, cancellations) against
``AsyncCassandraActiveRecordStrategy``, which runs the sync strategy's very step functions
through ``execute_async``. Plus what is Cassandra's own: an append cancelled while its
conditional write is in flight is settled before the task ends, and client timeouts of a few
milliseconds never give a wrong answer."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from uuid import uuid4

import pytest
from cassandra import OperationTimedOut, WriteTimeout, WriteType
from cassandra.query import BatchStatement
from cassandra_server import TEST_KEYSPACE, test_settings
from eventstore_core.aio import AsyncEventStore
from eventstore_core.exceptions import ConcurrencyError, DatastoreError, OutcomeUnknownError
from eventstore_core.sequenceditem import SequencedItem
from eventstore_core.testing import AsyncBackendTestCase
from test_cassandra_conformance import _OwnConnection

from eventstore_cassandra import (
    AsyncCassandraActiveRecordStrategy,
    CassandraActiveRecordStrategy,
    CassandraDatastore,
)
from eventstore_cassandra import outcome as outcome_module

TOPIC = "eventstore_core.events#DomainEvent"


class TestAsyncCassandra(AsyncBackendTestCase, _OwnConnection):
    """Each strategy connects by itself; small loads, so that CI runs it in a few minutes."""

    config_url = f"cassandra://{test_settings().hosts[0]}/{TEST_KEYSPACE}"
    events_per_writer = 100
    long_sequence = 300
    tasks = 16
    cancellations = 12

    def create_async_strategy(self, record: str = "integer") -> Any:
        item_class, record_class = self.records[record]
        return AsyncCassandraActiveRecordStrategy(
            active_record_class=record_class, sequenced_item_class=item_class,
            settings=self.settings(),
        )


def batch(sequence_id: Any, positions: range, writer: str = "us") -> list[SequencedItem]:
    return [SequencedItem(sequence_id, p, TOPIC, f'{{"by":"{writer}"}}') for p in positions]


@pytest.fixture
def strategies() -> Any:
    made = [AsyncCassandraActiveRecordStrategy(settings=test_settings(feed_delay=1.0,
                                                                      feed_write_window=0.3)),
            CassandraActiveRecordStrategy(settings=test_settings())]
    yield made
    asyncio.run(made[0].close())
    made[1].close()


def test_from_config_makes_the_async_strategy() -> None:
    async def main() -> None:
        async with AsyncEventStore.from_config(
                f"cassandra://{test_settings().hosts[0]}/{TEST_KEYSPACE}") as store:
            assert isinstance(store.active_record_strategy, AsyncCassandraActiveRecordStrategy)
            sequence_id = uuid4()
            await store.active_record_strategy.append(batch(sequence_id, range(3)))
            assert await store.active_record_strategy.get_items(sequence_id) == batch(
                sequence_id, range(3))

    asyncio.run(main())


def test_cancelled_while_the_conditional_write_is_in_flight(strategies: Any) -> None:
    """Cancelled after the conditional write was sent (the hook at "sending" cancels its own
    task): the task ends only once the outcome is settled, so what a read shows right after
    is final, all of the list, and a later append of the same positions conflicts."""
    strategy, sync = strategies
    cancelled_at: list[str] = []

    async def main() -> None:
        for size in (1, 10):
            sequence_id = uuid4()
            tasks: list[asyncio.Task[None]] = []

            def at(step: str, tasks: list[asyncio.Task[None]] = tasks) -> None:
                if step == "sending":
                    cancelled_at.append(step)
                    tasks[0].cancel()

            strategy._feed_step = at
            tasks.append(asyncio.create_task(strategy.append(batch(sequence_id, range(size)))))
            task = tasks[0]
            with pytest.raises(asyncio.CancelledError):
                await task
            # settled before the task ended: every row is there now, and stays so
            assert sync.get_items(sequence_id) == batch(sequence_id, range(size))
            strategy._feed_step = lambda step: None
            with pytest.raises(ConcurrencyError):
                await strategy.append(batch(sequence_id, range(1), writer="again"))

    asyncio.run(main())
    assert cancelled_at == ["sending", "sending"]


def test_cancelled_at_any_point_leaves_the_list_whole_or_absent(strategies: Any) -> None:
    """Appends of 10 items cancelled after a growing delay (before, during and after the
    feed entry and the conditional write): each is all there or not at all, and stays so;
    the feed shows each stored append once and no other."""
    strategy, sync = strategies
    outcomes: dict[str, int] = {"written": 0, "nothing": 0}
    appended: dict[Any, list[SequencedItem]] = {}
    missing: list[Any] = []

    async def main() -> None:
        for n in range(30):
            sequence_id = uuid4()
            task = asyncio.create_task(strategy.append(batch(sequence_id, range(10))))
            await asyncio.sleep(n * 0.0005)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            stored = sync.get_items(sequence_id)
            assert stored in ([], batch(sequence_id, range(10))), len(stored)
            outcomes["written" if stored else "nothing"] += 1
            if stored:
                appended[sequence_id] = stored
            else:
                missing.append(sequence_id)

    start = time.time()
    asyncio.run(main())
    assert outcomes["nothing"] > 0 and outcomes["written"] > 0, outcomes
    time.sleep(1.5)  # the feed's delay; and no write was left in flight to land meanwhile
    for sequence_id in (*appended, *missing):
        assert sync.get_items(sequence_id) == appended.get(sequence_id, [])

    async def feed() -> list[Any]:
        found: list[Any] = []
        position = 0
        while True:
            page = await strategy.read_all(position, 500)
            if not page:
                return found
            found += page
            position = page[-1].global_position
    seen = [o.item for o in asyncio.run(feed()) if o.item[0] in appended]
    assert sorted(seen) == sorted(item for items in appended.values() for item in items)
    assert time.time() - start < 300


@pytest.mark.parametrize("feed", [False, True])
def test_client_timeouts_of_milliseconds_never_give_a_wrong_answer(feed: bool) -> None:
    """As the sync test of the same name: each answer of the async store is true after."""
    hasty = AsyncCassandraActiveRecordStrategy(
        settings=test_settings(request_timeout=0.003, feed=feed))
    patient = CassandraActiveRecordStrategy(settings=test_settings())
    answers: dict[Any, str] = {}

    async def main() -> None:
        for _ in range(30):
            sequence_id = uuid4()
            try:
                await hasty.append(batch(sequence_id, range(3)))
                answers[sequence_id] = "stored"
            except OutcomeUnknownError:
                answers[sequence_id] = "unknown"
            except DatastoreError as error:
                assert "nothing" in str(error) and "written" in str(error), error
                answers[sequence_id] = "not stored"
        await hasty.close()

    try:
        asyncio.run(main())
        time.sleep(2.0)  # anything still in flight lands or is dropped
        for sequence_id, answer in answers.items():
            stored = patient.get_items(sequence_id)
            if answer == "stored":
                assert stored == batch(sequence_id, range(3))
            elif answer == "not stored":
                assert stored == [], f"reported not stored, but {len(stored)} items are there"
            else:
                assert stored in ([], batch(sequence_id, range(3)))
    finally:
        patient.close()
    assert "stored" in answers.values()


def test_a_long_sequence_is_read_through_several_pages() -> None:
    """The read's pages (fetch_size 7) come through ``execute_async`` one after the other."""
    small_pages = AsyncCassandraActiveRecordStrategy(settings=test_settings(fetch_size=7))

    async def main() -> None:
        sequence_id = uuid4()
        stored = batch(sequence_id, range(50))
        await small_pages.append(stored)
        assert await small_pages.get_items(sequence_id) == stored
        assert await small_pages.get_items(sequence_id, is_ascending=False) == stored[::-1]
        assert await small_pages.get_items(sequence_id, gte=10, limit=25) == stored[10:35]
        await small_pages.close()

    asyncio.run(main())


class _Failed:
    """What ``execute_async`` returns for a request that failed with ``error``: the driver's
    future's two methods the bridge uses."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def add_callbacks(self, callback: Any, errback: Any) -> None:
        errback(self.error)

    def result(self) -> Any:
        raise self.error


class FaultyAsyncSession:
    """The real session, but the next conditional write fails with ``fault`` (applied first
    or not), and the ``fail_again`` ones after it time out without being sent."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.fault: BaseException | None = None
        self.apply_first = False
        self.fail_again = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def execute_async(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        is_write = isinstance(statement, BatchStatement) or not statement.is_idempotent
        if is_write and self.fault is not None:
            fault, self.fault = self.fault, None
            if self.apply_first:
                self.real.execute(statement, *args, **kwargs)
            return _Failed(fault)
        if is_write and self.fail_again:
            self.fail_again -= 1
            return _Failed(OperationTimedOut({"127.0.0.1:9042": "Client request timeout"}))
        return self.real.execute_async(statement, *args, **kwargs)


def cas_timeout() -> WriteTimeout:
    return WriteTimeout("Operation timed out - received only 0 responses.", consistency=6,
                        required_responses=1, received_responses=0, write_type=WriteType.CAS)


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(outcome_module, "PROPOSE_AGAIN_PAUSES", (0.01, 0.3))
    datastore = CassandraDatastore(settings=test_settings())
    datastore.setup_connection(make_default=False)
    datastore.setup_tables()
    session = FaultyAsyncSession(datastore.session)
    yield session, AsyncCassandraActiveRecordStrategy(session=session, keyspace=TEST_KEYSPACE)
    datastore.drop_connection()


@pytest.mark.parametrize("apply_first", [True, False])
def test_an_unknown_outcome_is_settled_by_the_same_steps(faulty: Any, apply_first: bool) -> None:
    """Applied or not when the answer was lost: stored once, the append returns normally;
    another writer's row: ConcurrencyError; proposing again fails too: unknown."""
    session, strategy = faulty

    async def main() -> None:
        sequence_id = uuid4()
        session.fault, session.apply_first = cas_timeout(), apply_first
        await strategy.append(batch(sequence_id, range(3)))
        assert await strategy.get_items(sequence_id) == batch(sequence_id, range(3))

        theirs = batch(sequence_id, range(3, 4), writer="them")
        await strategy.append(theirs)
        session.fault = cas_timeout()
        with pytest.raises(ConcurrencyError, match="position 3"):
            await strategy.append(batch(sequence_id, range(3, 6)))

        other = uuid4()
        session.fault, session.apply_first, session.fail_again = cas_timeout(), apply_first, 3
        with pytest.raises(OutcomeUnknownError, match="unknown"):
            await strategy.append(batch(other, range(2)))
        assert len(await strategy.get_items(other)) == (2 if apply_first else 0)

    asyncio.run(main())


def test_cancelled_while_settling_ends_once_settled(faulty: Any) -> None:
    """Cancelled while the unknown outcome is being settled (during the pause between two
    proposals): the task ends when settling did, with CancelledError if it could tell (the
    rows are there now) and OutcomeUnknownError if it could not; never as failed."""
    session, strategy = faulty

    async def cancel_while_settling(fail_again: int) -> tuple[Any, BaseException]:
        sequence_id = uuid4()
        session.fault, session.apply_first, session.fail_again = cas_timeout(), False, fail_again
        task = asyncio.create_task(strategy.append(batch(sequence_id, range(3))))
        await asyncio.sleep(0.15)  # inside the pause of 0.3 s after the second try failed
        task.cancel()
        try:
            await task
        except BaseException as error:  # noqa: BLE001 - what the task ended with
            return sequence_id, error
        raise AssertionError("the cancelled append returned normally")

    async def main() -> None:
        sequence_id, error = await cancel_while_settling(2)  # the third try gets through
        assert isinstance(error, asyncio.CancelledError)
        assert await strategy.get_items(sequence_id) == batch(sequence_id, range(3))
        sequence_id, error = await cancel_while_settling(3)  # every try fails
        assert isinstance(error, OutcomeUnknownError), error
        assert await strategy.get_items(sequence_id) == []

    asyncio.run(main())
