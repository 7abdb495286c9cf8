"""``AsyncBackendTestCase``: the kit in its async form, from the same test definitions.

Implement ``create_async_strategy(record)``. Every test of ``BackendTestCase`` then runs
unchanged against your async strategy: the tests see it through ``SyncView`` (each call's
coroutine awaited on one event loop, in a thread of its own; the thread races become tasks
racing on that loop), and the stores they build are the async ones (``AsyncEventStore``,
``AsyncSnapshotStrategy``, ``AsyncRepository``, ``AsyncCatchUpSubscription``). The tests
below are for async strategies only: many tasks at once, and cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from ..aio.eventstore import AsyncEventStore
from ..aio.snapshots import AsyncRepository, AsyncSnapshotStrategy
from ..aio.strategy import AbstractAsyncActiveRecordStrategy
from ..aio.subscription import AsyncCatchUpSubscription
from ..exceptions import ConcurrencyError
from ..sequenceditemmapper import SequencedItemMapper
from .asyncview import LoopThread, SyncView, unwrap
from .kit import BackendTestCase
from .requirements import requires

TOPIC = "eventstore_core.events#DomainEvent"


class AsyncBackendTestCase(BackendTestCase):
    """Every test of the backend contract against an async strategy, plus async-only tests.

    Knobs (besides ``BackendTestCase``'s): ``tasks`` (concurrent tasks in the concurrency
    tests), ``cancellations`` (how many appends are cancelled, each after one more turn of
    the loop than the last).
    """

    __test__ = False
    #: Tasks appending (and racing) at once in the concurrency tests.
    tasks = 64
    #: Appends cancelled in the cancellation tests, the n-th after n turns of the loop.
    cancellations = 40

    def __init_subclass__(cls, **kwargs: Any) -> None:
        explicit = "__test__" in cls.__dict__
        super().__init_subclass__(**kwargs)
        if not explicit:  # collected once a subclass has the factory
            cls.__test__ = (  # type: ignore[attr-defined]
                cls.create_async_strategy is not AsyncBackendTestCase.create_async_strategy)

    def create_async_strategy(
        self, record: str = "integer"
    ) -> AbstractAsyncActiveRecordStrategy[Any]:
        """A ready async strategy on the test store: the same contract as
        ``BackendTestCase.create_strategy`` (same ``record`` values, same store for every
        call). It is called inside the test's running event loop."""
        raise NotImplementedError

    # -- the sync kit's tests, run through SyncView ------------------------------------
    @property
    def runner(self) -> LoopThread:
        """This test's event loop (in its own thread), started on first use."""
        runner = self.__dict__.get("_runner")
        if runner is None:
            runner = self.__dict__["_runner"] = LoopThread()
        return runner

    def create_strategy(self, record: str = "integer") -> Any:
        return SyncView(self.runner.call(self.create_async_strategy, record), self.runner)

    def tearDown(self) -> None:
        super().tearDown()
        runner = self.__dict__.pop("_runner", None)
        if runner is not None:
            runner.close()

    def make_event_store(self, mapper: SequencedItemMapper[Any], strategy: Any) -> Any:
        return SyncView(AsyncEventStore(mapper, unwrap(strategy)), self.runner)

    def make_snapshot_strategy(self, snapshot_store: Any) -> Any:
        return SyncView(AsyncSnapshotStrategy(unwrap(snapshot_store)), self.runner)

    def make_repository(self, event_store: Any, mutate: Callable[[Any, Any], Any],
                        snapshot_strategy: Any = None, snapshot_every: int | None = None) -> Any:
        return SyncView(AsyncRepository(unwrap(event_store), mutate, unwrap(snapshot_strategy),
                                        snapshot_every), self.runner)

    def make_subscription(self, strategy: Any, after: int = 0,
                          timeout: float | None = None, **options: Any) -> Any:
        return SyncView(AsyncCatchUpSubscription(unwrap(strategy), after=after,
                                                 timeout=timeout, **options), self.runner)

    def store_from_config(self, backend: str) -> Any:
        return SyncView(self.runner.call(AsyncEventStore.from_config, backend), self.runner)

    # -- async only ---------------------------------------------------------------------
    @property
    def async_strategy(self) -> AbstractAsyncActiveRecordStrategy[Any]:
        return unwrap(self.strategy)  # type: ignore[no-any-return]

    def items(self, sequence_id: Any, positions: range, data: str = "{}") -> list[Any]:
        return [self.item_class(sequence_id, p, TOPIC, data) for p in positions]

    def test_registers_an_async_factory(self) -> None:
        registration = self.registration()
        self.assertIsNotNone(registration.async_factory,
                             f"backend {registration.name!r} registers no async_factory")

    def test_many_tasks_append_and_read_at_once(self) -> None:
        """``tasks`` tasks on one loop append 10-item lists to their own sequences and read
        them back, while as many race for the positions of one sequence."""
        strategy = self.async_strategy

        async def own(sequence_id: Any) -> list[Any]:
            for start in range(0, 30, 10):
                await strategy.append(self.items(sequence_id, range(start, start + 10)))
            return await strategy.get_items(sequence_id)

        async def race(shared: Any, name: str) -> list[int]:
            won = []
            for position in range(10):
                try:
                    await strategy.append(self.item_class(shared, position, TOPIC,
                                                          f'{{"writer":"{name}"}}'))
                except ConcurrencyError:
                    continue
                won.append(position)
            return won

        async def main() -> None:
            sequences = [uuid4() for _ in range(self.tasks)]
            shared = uuid4()
            results = await asyncio.gather(
                *(own(s) for s in sequences),
                *(race(shared, f"r{i}") for i in range(self.tasks)))
            for sequence_id, got in zip(sequences, results[:self.tasks], strict=True):
                self.assertEqual(got, self.items(sequence_id, range(30)))
            won = results[self.tasks:]
            self.assertEqual(sorted(p for positions in won for p in positions), list(range(10)))
            winner = {p: f"r{i}" for i, positions in enumerate(won) for p in positions}
            for item in await strategy.get_items(shared):
                self.assertEqual(item[3], f'{{"writer":"{winner[item[1]]}"}}')

        self.runner.run(main())

    def test_a_cancelled_append_leaves_all_or_nothing(self) -> None:
        """Appends cancelled after 0, 1, 2, ... turns of the loop: each left its whole list
        or none of it, and the store works after (nothing left held)."""
        self.runner.run(self._cancel_appends(lambda: [uuid4()]))

    @requires("transactions_across_sequences")
    def test_a_cancelled_append_across_sequences_leaves_all_or_nothing(self) -> None:
        self.runner.run(self._cancel_appends(lambda: [uuid4(), uuid4(), uuid4()]))

    async def _cancel_appends(self, new_sequences: Callable[[], list[Any]]) -> None:
        strategy = self.async_strategy
        outcomes = {"written": 0, "nothing": 0}
        for turns in range(self.cancellations):
            sequences = new_sequences()
            batch = [item for s in sequences for item in self.items(s, range(10))]
            task = asyncio.create_task(strategy.append(batch))
            for _ in range(turns):
                await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            stored = [item for s in sequences for item in await strategy.get_items(s)]
            self.assertIn(stored, ([], batch),
                          f"cancelled after {turns} turns: {len(stored)} of {len(batch)} stored")
            outcomes["written" if stored else "nothing"] += 1
            # the store is as if the append happened or not: appending the rest works
            rest = [item for s in sequences for item in self.items(s, range(10, 12))]
            if stored:
                await asyncio.wait_for(strategy.append(rest), timeout=60)
            else:
                await asyncio.wait_for(strategy.append(batch + rest), timeout=60)
            with self.assertRaises(ConcurrencyError):
                await asyncio.wait_for(strategy.append(batch[:1]), timeout=60)
        self.assertGreater(outcomes["nothing"], 0, "an append cancelled before it started "
                                                   "must write nothing")
        await self._still_serves_many()

    def test_cancelled_reads_leave_the_store_working(self) -> None:
        strategy = self.async_strategy

        async def main() -> None:
            sequence_id = uuid4()
            await strategy.append(self.items(sequence_id, range(50)))
            for turns in range(self.cancellations // 2):
                task = asyncio.create_task(strategy.get_items(sequence_id))
                for _ in range(turns):
                    await asyncio.sleep(0)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    got = await task
                    self.assertEqual(len(got), 50)
            await self._still_serves_many()

        self.runner.run(main())

    def test_cancelled_iterations_leave_the_store_working(self) -> None:
        """A task cancelled while it iterates over everything (a cursor open), or while
        it reads the global order, holds nothing after."""
        strategy = self.async_strategy

        async def iterate() -> None:
            async for _ in strategy.all_items(page_size=2):
                await asyncio.sleep(0)

        async def follow() -> None:
            position = 0
            while True:
                page = await strategy.read_all(position, 2)
                position = page[-1].global_position if page else position
                await strategy.wait_for_items(position, 0.01)

        async def main() -> None:
            sequence_id = uuid4()
            await strategy.append(self.items(sequence_id, range(20)))
            readers = [iterate] + ([follow] if self.capabilities.global_order else [])
            for reader in readers:
                for turns in range(1, self.cancellations // 4 + 2):
                    task = asyncio.create_task(reader())
                    for _ in range(turns):
                        await asyncio.sleep(0)
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await self._still_serves_many()

        self.runner.run(main())

    async def _still_serves_many(self) -> None:
        """As many appends and reads at once as there are tasks: they finish (a connection
        or lock left held by a cancelled task would make them wait for ever)."""
        strategy = self.async_strategy

        async def one() -> None:
            sequence_id = uuid4()
            await strategy.append(self.items(sequence_id, range(3)))
            self.assertEqual(len(await strategy.get_items(sequence_id)), 3)

        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(self.tasks))), timeout=120)
