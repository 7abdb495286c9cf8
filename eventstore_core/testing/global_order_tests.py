"""Abstract tests for the global order: every item once, in commit order, also live."""

from __future__ import annotations

import multiprocessing
import threading
import time
import unittest
from typing import Any
from uuid import uuid4

from ..activerecordstrategy import AbstractActiveRecordStrategy, OrderedItem
from .parts import StoreParts
from .requirements import requires

TOPIC = "eventstore_core.events#DomainEvent"


class GlobalOrderTests(StoreParts, unittest.TestCase):
    """The global order (part of ``BackendTestCase``; runs when ``global_order`` is declared)."""

    __test__ = False
    #: Writers in the live test: processes (started by ``start_method``) where the store is
    #: shared between processes, else threads.
    writers = 4
    #: Events each writer appends in the live test.
    events_per_writer = 5000
    #: Events per append in the live test.
    events_per_append = 10
    start_method = "spawn"
    record = "integer"
    strategy: AbstractActiveRecordStrategy[Any]
    item_class: Any

    def create_strategy(self, record: str = "integer") -> AbstractActiveRecordStrategy[Any]:
        raise NotImplementedError

    def wait_until_visible(self) -> None:
        """Sleep the ``global_order_delay`` the strategy declares (0 for most backends):
        after that, everything appended before is in ``read_all``."""
        delay = self.strategy.capabilities.global_order_delay
        if delay > 0:
            time.sleep(delay + 0.1)

    def append_in_order(self, items: list[Any]) -> None:
        """Append ``items`` as one list where lists spanning sequences are atomic, else one
        run of a sequence after the other, in their order."""
        if self.strategy.capabilities.transactions_across_sequences:
            self.strategy.append(items)
            return
        start = 0
        for end in range(1, len(items) + 1):
            if end == len(items) or items[end][0] != items[start][0]:
                self.strategy.append(items[start:end])
                start = end

    def last_position(self) -> int:
        """The highest global position, once everything appended before is visible."""
        self.wait_until_visible()
        position = 0
        while True:
            page = self.strategy.read_all(position, 10_000)
            if not page:
                return position
            position = page[-1].global_position

    @requires("global_order")
    def test_read_all_in_the_order_of_commit(self) -> None:
        start = self.last_position()
        first, second = uuid4(), uuid4()
        batches = [
            [self.item_class(first, 0, TOPIC, "{}"), self.item_class(second, 0, TOPIC, "{}")],
            [self.item_class(second, 1, TOPIC, "{}")],
            [self.item_class(first, 1, TOPIC, "{}")],
        ]
        for batch in batches:
            self.append_in_order(batch)
        self.wait_until_visible()
        got = self.strategy.read_all(after=start, limit=100)
        mine = [o for o in got if o.item[0] in (first, second)]
        self.assertEqual([o.item for o in mine], [item for batch in batches for item in batch])
        positions = [o.global_position for o in got]
        self.assertEqual(positions, sorted(set(positions)))
        self.assertTrue(all(p > start for p in positions))
        # paging gives the same as one read
        paged: list[OrderedItem] = []
        after = start
        while True:
            page = self.strategy.read_all(after=after, limit=2)
            if not page:
                break
            self.assertLessEqual(len(page), 2)
            paged.extend(page)
            after = page[-1].global_position
        self.assertEqual(paged[: len(got)], got)

    @requires("global_order")
    def test_subscriber_sees_every_item_once_in_order_while_writers_write(self) -> None:
        start = self.last_position()
        expected = self.writers * self.events_per_writer
        seen: list[OrderedItem] = []
        subscription = self.make_subscription(self.create_strategy(self.record), after=start,
                                              timeout=120)

        def follow() -> None:
            for ordered in subscription:
                seen.append(ordered)
                if len(seen) >= expected:
                    subscription.stop()

        follower = threading.Thread(target=follow)
        follower.start()
        sequences = self._run_writers()
        follower.join(timeout=600)
        subscription.stop()
        subscription.strategy.close()
        mine = [o for o in seen if o.item[0] in sequences]
        self.assertEqual(len(mine), expected, "every item seen")
        positions = [o.global_position for o in seen]
        self.assertEqual(positions, sorted(set(positions)), "in order, each once")
        keys = {(o.item[0], o.item[1]) for o in mine}
        self.assertEqual(len(keys), expected, "no item twice")
        for sequence_id in sequences:  # within a sequence, positions come in their order
            ordered = [o.item[1] for o in mine if o.item[0] == sequence_id]
            self.assertEqual(ordered, sorted(ordered))

    @requires("global_order")
    def test_resume_after_a_restart_from_a_saved_position(self) -> None:
        start = self.last_position()
        sequence_id = uuid4()
        self.strategy.append([self.item_class(sequence_id, p, TOPIC, "{}") for p in range(6)])
        self.wait_until_visible()
        first = self.make_subscription(self.strategy, after=start, timeout=0)
        got_first = []
        for ordered in first:
            got_first.append(ordered)
            if len(got_first) == 3:
                break
        saved = first.position  # what a subscriber would store with its results
        self.strategy.append([self.item_class(sequence_id, p, TOPIC, "{}") for p in (6, 7)])
        self.wait_until_visible()
        resumed = self.make_subscription(self.create_strategy(self.record), after=saved,
                                         timeout=0)
        got_rest = [o for o in resumed if o.item[0] == sequence_id]
        resumed.strategy.close()
        self.assertEqual([o.item[1] for o in got_first + got_rest], list(range(8)))

    def _run_writers(self) -> set[Any]:
        sequences = [uuid4() for _ in range(self.writers)]
        if self.strategy.capabilities.shared_between_processes:
            context: Any = multiprocessing.get_context(self.start_method)
            processes = [context.Process(target=_write_in_child, args=(
                type(self), self._testMethodName, s, self.events_per_writer,
                self.events_per_append)) for s in sequences]
            for process in processes:
                process.start()
            for process in processes:
                process.join(timeout=600)
            self.assertEqual([p.exitcode for p in processes], [0] * len(processes))
        else:
            threads = [threading.Thread(target=_write, args=(
                self.strategy, s, self.events_per_writer, self.events_per_append))
                for s in sequences]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=600)
        return set(sequences)


def _write(strategy: AbstractActiveRecordStrategy[Any], sequence_id: Any, count: int,
           step: int) -> None:
    item_class = strategy.sequenced_item_class
    for start in range(0, count, step):
        strategy.append([item_class(sequence_id, p, TOPIC, f'{{"p":{p}}}')
                         for p in range(start, min(start + step, count))])


def _write_in_child(case_class: type[GlobalOrderTests], test_name: str, sequence_id: Any,
                    count: int, step: int) -> None:
    """A writer in a child process: a fresh test case's ``create_strategy`` (no setUp)."""
    case = case_class(test_name)
    strategy = case.create_strategy(case.record)
    _write(strategy, sequence_id, count, step)
    strategy.close()
