"""Tests of the active record strategy contract (see ``eventstore_core.testing``)."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import unittest
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

from ..activerecordstrategy import AbstractActiveRecordStrategy
from ..events import DomainEvent
from ..exceptions import (
    ConcurrencyError,
    EventStoreError,
    InvalidEventError,
    ItemNotFound,
)
from ..sequenceditemmapper import SequencedItemMapper
from .parts import StoreParts
from .requirements import requires, requires_not
from .values import EXAMPLE_VALUES

TOPIC = "eventstore_core.events#DomainEvent"
#: Positions with gaps, so that bounds between two stored positions are exercised too.
GAPPED_POSITIONS = [0, 1, 2, 4, 5, 7, 8, 9, 11, 12]


class StrategyTests(StoreParts, unittest.TestCase):
    """The contract every backend fulfils (part of ``BackendTestCase``)."""

    __test__ = False
    #: Writers racing in the thread and process tests.
    racers = 4
    #: Positions each racer tries to claim.
    race_positions = 30
    #: How the process tests start processes: "spawn" (the default) or "fork".
    start_method = "spawn"
    #: The ``record`` the strategy tests ask ``create_strategy`` for.
    record = "integer"
    strategy: AbstractActiveRecordStrategy[Any]
    item_class: Any
    capabilities: Any

    def create_strategy(self, record: str = "integer") -> AbstractActiveRecordStrategy[Any]:
        raise NotImplementedError

    def item(self, sequence_id: Any, position: Any, data: str = '{"n":1}') -> Any:
        return self.item_class(sequence_id, position, TOPIC, data)

    def fill(self, positions: list[int] | None = None) -> tuple[UUID, list[Any]]:
        sequence_id = uuid4()
        items = [self.item(sequence_id, p, f'{{"p":{p}}}') for p in positions or GAPPED_POSITIONS]
        self.strategy.append(items)
        return sequence_id, items

    # -- writing and reading ------------------------------------------------------------
    def test_append_one_and_get_it_back(self) -> None:
        sequence_id = uuid4()
        self.assertEqual(self.strategy.get_items(sequence_id), [])
        item = self.item(sequence_id, 0, '{"foo":"bar"}')
        self.strategy.append(item)
        self.assertEqual(self.strategy.get_items(sequence_id), [item])
        self.assertEqual(self.strategy.get_item(sequence_id, 0), item)
        self.assertIsInstance(self.strategy.get_items(sequence_id)[0], self.item_class)

    def test_get_item_that_is_not_there(self) -> None:
        sequence_id, _ = self.fill([0, 1])
        with self.assertRaises(ItemNotFound) as caught:
            self.strategy.get_item(sequence_id, 5)
        self.assertIn(str(sequence_id), str(caught.exception))
        self.assertIsInstance(caught.exception, KeyError)

    def test_data_comes_back_exactly(self) -> None:
        sequence_id = uuid4()
        texts = ["", "x" * 100_000, "ünïcødé ✓ \x01 \\ \" '", '{"a": [1, 2.5, null]}']
        items = [self.item(sequence_id, i, text) for i, text in enumerate(texts)]
        self.strategy.append(items)
        self.assertEqual(self.strategy.get_items(sequence_id), items)

    def test_sequences_are_separate(self) -> None:
        first, first_items = self.fill([0, 1, 2])
        second, second_items = self.fill([0, 1])
        self.assertEqual(self.strategy.get_items(first), first_items)
        self.assertEqual(self.strategy.get_items(second), second_items)

    def test_every_combination_of_bounds_limit_and_order(self) -> None:
        sequence_id, items = self.fill()
        by_position = {item[1]: item for item in items}
        for gt, gte, lt, lte, limit, ascending in itertools.product(
            (None, 2, 6), (None, 1, 7), (None, 4, 9), (None, 3, 11), (None, 0, 1, 3, 20),
            (True, False),
        ):
            expected = [
                p for p in sorted(by_position, reverse=not ascending)
                if (gt is None or p > gt) and (gte is None or p >= gte)
                and (lt is None or p < lt) and (lte is None or p <= lte)
            ]
            if limit is not None:
                expected = expected[:limit]
            got = self.strategy.get_items(
                sequence_id, gt=gt, gte=gte, lt=lt, lte=lte, limit=limit, is_ascending=ascending
            )
            self.assertEqual(
                [item[1] for item in got], expected,
                f"gt={gt} gte={gte} lt={lt} lte={lte} limit={limit} is_ascending={ascending}",
            )
            self.assertEqual(got, [by_position[p] for p in expected])

    def test_bad_limit_is_refused(self) -> None:
        sequence_id, _ = self.fill([0])
        for limit in (-1, "3", 1.5):
            with self.assertRaises(ValueError):
                self.strategy.get_items(sequence_id, limit=limit)  # type: ignore[arg-type]

    # -- concurrency control ------------------------------------------------------------
    def test_taken_position_is_concurrency_error_and_nothing_changes(self) -> None:
        sequence_id = uuid4()
        original = self.item(sequence_id, 0, '{"original":true}')
        self.strategy.append(original)
        with self.assertRaises(ConcurrencyError) as caught:
            self.strategy.append(self.item(sequence_id, 0, '{"intruder":true}'))
        self.assertIn(str(sequence_id), str(caught.exception))
        self.assertEqual(self.strategy.get_items(sequence_id), [original])
        # The strategy is still usable after the failure.
        follower = self.item(sequence_id, 1)
        self.strategy.append(follower)
        self.assertEqual(self.strategy.get_items(sequence_id), [original, follower])

    def test_list_is_all_or_nothing(self) -> None:
        sequence_id, existing = self.fill([3])
        batch = [self.item(sequence_id, p) for p in (0, 1, 2, 3)]
        with self.assertRaises(ConcurrencyError):
            self.strategy.append(batch)
        self.assertEqual(self.strategy.get_items(sequence_id), existing)
        self.strategy.append(batch[:3])
        self.assertEqual([i[1] for i in self.strategy.get_items(sequence_id)], [0, 1, 2, 3])

    def test_same_position_twice_in_one_list(self) -> None:
        sequence_id = uuid4()
        with self.assertRaises(InvalidEventError):
            self.strategy.append([self.item(sequence_id, 0), self.item(sequence_id, 0, "{}")])
        self.assertEqual(self.strategy.get_items(sequence_id), [])

    @requires("transactions_across_sequences")
    def test_list_spanning_sequences_is_all_or_nothing(self) -> None:
        first, second = uuid4(), uuid4()
        taken = self.item(second, 1)
        self.strategy.append(taken)
        batch = [self.item(first, 0), self.item(first, 1), self.item(second, 0), taken]
        with self.assertRaises(ConcurrencyError):
            self.strategy.append(batch)
        self.assertEqual(self.strategy.get_items(first), [])
        self.assertEqual(self.strategy.get_items(second), [taken])
        self.strategy.append(batch[:3])
        self.assertEqual(len(self.strategy.get_items(first) + self.strategy.get_items(second)), 4)

    @requires_not("transactions_across_sequences")
    def test_list_spanning_sequences_is_refused(self) -> None:
        first, second = uuid4(), uuid4()
        with self.assertRaises(EventStoreError):
            self.strategy.append([self.item(first, 0), self.item(second, 0)])
        self.assertEqual(self.strategy.get_items(first), [])
        self.assertEqual(self.strategy.get_items(second), [])

    def test_empty_list_writes_nothing(self) -> None:
        self.strategy.append([])

    # -- bad input ----------------------------------------------------------------------
    def test_wrong_sequence_id_type_is_refused_and_nothing_written(self) -> None:
        sequence_id = uuid4()
        good = self.item(sequence_id, 0)
        with self.assertRaises(InvalidEventError) as caught:
            self.strategy.append([good, self.item(12345, 1)])
        self.assertIn("12345", str(caught.exception))
        self.assertEqual(self.strategy.get_items(sequence_id), [])

    def test_wrong_position_type_is_refused(self) -> None:
        sequence_id = uuid4()
        for position in ("1", None, True, 1.5):
            with self.assertRaises(InvalidEventError) as caught:
                self.strategy.append(self.item(sequence_id, position))
            self.assertIn(str(sequence_id), str(caught.exception))
        self.assertEqual(self.strategy.get_items(sequence_id), [])

    def test_item_of_another_class_is_refused(self) -> None:
        with self.assertRaises(InvalidEventError):
            self.strategy.append(("not", "an", "item", "tuple"))  # type: ignore[arg-type]

    # -- races --------------------------------------------------------------------------
    def test_threads_racing_for_positions(self) -> None:
        sequence_id = uuid4()
        strategies = [self.create_strategy(self.record) for _ in range(self.racers)]
        won: list[list[int]] = [[] for _ in strategies]
        errors: list[BaseException] = []
        start = threading.Barrier(len(strategies))

        def race(index: int) -> None:
            try:
                start.wait()
                won[index] = _claim_positions(strategies[index], self.item_class,
                                              sequence_id, self.race_positions, f"t{index}")
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=race, args=(i,)) for i in range(len(strategies))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        for strategy in strategies:
            strategy.close()
        self.assertEqual(errors, [])
        self._check_race(sequence_id, {f"t{i}": positions for i, positions in enumerate(won)})

    @requires("shared_between_processes")
    def test_processes_racing_for_positions(self) -> None:
        """Writers in other processes (started by ``start_method``) race for positions; the
        parent's strategy, opened and used before they start, reads every winner after."""
        before = uuid4()
        self.strategy.append(self.item(before, 0))  # the parent's store is open and in use
        sequence_id = uuid4()
        context: Any = multiprocessing.get_context(self.start_method)
        results = context.Queue()
        start = context.Barrier(self.racers)
        processes = [
            context.Process(target=_race_in_child, args=(
                type(self), self._testMethodName, i, sequence_id, self.race_positions, start,
                results,
            ))
            for i in range(self.racers)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=300) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        failures = [outcome for outcome in outcomes if outcome[0] == "error"]
        self.assertEqual(failures, [])
        # the parent's strategy still works after its children closed theirs
        self.assertEqual(self.strategy.get_items(before), [self.item(before, 0)])
        self.strategy.append(self.item(before, 1))
        self._check_race(sequence_id, {name: positions for _, name, positions in outcomes})

    def _check_race(self, sequence_id: UUID, won: dict[str, list[int]]) -> None:
        claimed = sorted(p for positions in won.values() for p in positions)
        self.assertEqual(claimed, list(range(self.race_positions)), "each position won once")
        stored = self.strategy.get_items(sequence_id)
        self.assertEqual([item[1] for item in stored], list(range(self.race_positions)))
        winner_of = {p: name for name, positions in won.items() for p in positions}
        for item in stored:
            self.assertEqual(item[3], f'{{"writer":"{winner_of[item[1]]}"}}')

    # -- everything ---------------------------------------------------------------------
    def test_iterating_over_everything_page_by_page(self) -> None:
        mine = {}
        for size in (1, 4, 7):
            sequence_id, items = self.fill(list(range(size)))
            mine[sequence_id] = items
        iterator = self.strategy.all_items(page_size=3)
        self.assertIsInstance(iterator, Iterator)
        seen: dict[Any, list[Any]] = {}
        for item in iterator:
            if item[0] in mine:
                seen.setdefault(item[0], []).append(item)
        self.assertEqual(seen, mine)
        with self.assertRaises(InvalidEventError):
            self.strategy.all_items(page_size=0)

    # -- through the event store --------------------------------------------------------
    def test_every_value_type_round_trips_through_the_store(self) -> None:
        mapper: SequencedItemMapper[Any] = SequencedItemMapper(sequenced_item_class=self.item_class)
        store = self.make_event_store(mapper, self.strategy)
        names = self.item_class._fields
        sequence_id = uuid4()
        event = DomainEvent(**{names[0]: sequence_id, names[1]: 0}, **EXAMPLE_VALUES)
        store.append(event)
        (back,) = store.get_domain_events(sequence_id)
        self.assertEqual(back, event)
        for name, value in EXAMPLE_VALUES.items():
            self.assertIs(type(getattr(back, name)), type(value), name)
            self.assertEqual(getattr(back, name), value, name)
        self.assertEqual(store.get_most_recent_event(sequence_id), event)
        self.assertEqual(store.get_domain_event(sequence_id, 0), event)


def _race_in_child(
    case_class: type[StrategyTests], test_name: str, index: int, sequence_id: UUID,
    count: int, start: Any, results: Any,
) -> None:
    """One racer in a child process: a fresh test case's ``create_strategy`` (no setUp)."""
    try:
        case = case_class(test_name)
        strategy = case.create_strategy(case.record)
        start.wait()
        won = _claim_positions(strategy, strategy.sequenced_item_class, sequence_id, count,
                               f"p{index}")
        strategy.close()
        results.put(("ok", f"p{index}", won))
    except BaseException as error:
        results.put(("error", f"p{index}", repr(error)))


def _claim_positions(
    strategy: AbstractActiveRecordStrategy[Any], item_class: Any, sequence_id: UUID,
    count: int, name: str,
) -> list[int]:
    """Try to append every position in turn; return those this writer won."""
    won = []
    for position in range(count):
        try:
            strategy.append(item_class(sequence_id, position, TOPIC, f'{{"writer":"{name}"}}'))
        except ConcurrencyError:
            continue
        won.append(position)
    return won
