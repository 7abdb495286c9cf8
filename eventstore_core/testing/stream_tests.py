"""Tests of expected versions, event ids, metadata and named streams (issue 12, parts 1-4).

Each runs when the strategy declares its capability (``expected_versions``, ``event_ids``,
``metadata``, ``named_streams``, ``category_reads``) and otherwise checks that the backend
refuses clearly. Event ids and metadata are tested on ``create_strategy("enveloped")``, a
store of ``EnvelopedItem`` records.
"""

from __future__ import annotations

import threading
import unittest
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from ..activerecordstrategy import AbstractActiveRecordStrategy
from ..events import DomainEvent
from ..exceptions import (
    ConcurrencyError,
    InvalidEventError,
    UnsupportedFeatureError,
    WrongExpectedVersionError,
)
from ..sequenceditemmapper import SequencedItemMapper
from ..streams import ANY, NO_STREAM, STREAM_EXISTS
from .parts import StoreParts
from .requirements import requires, requires_not

TOPIC = "eventstore_core.events#DomainEvent"


class StreamTests(StoreParts, unittest.TestCase):
    """Append semantics and named streams (part of ``BackendTestCase``)."""

    __test__ = False
    racers = 4
    record = "integer"
    strategy: AbstractActiveRecordStrategy[Any]
    item_class: Any
    capabilities: Any

    def create_strategy(self, record: str = "integer") -> AbstractActiveRecordStrategy[Any]:
        raise NotImplementedError

    def opened(self, record: str) -> AbstractActiveRecordStrategy[Any]:
        raise NotImplementedError

    # (of GlobalOrderTests, beside this class in BackendTestCase)
    wait_until_visible: Callable[[], None]
    last_position: Callable[[], int]

    def item(self, sequence_id: Any, position: Any, data: str = '{"n":1}') -> Any:
        return self.item_class(sequence_id, position, TOPIC, data)

    def _race(self, strategies: list[Any], attempt: Callable[[int, Any], Any]) -> list[Any]:
        """Run ``attempt(index, strategy)`` in one thread per strategy, all at once; their
        results (an exception is a result too)."""
        results: list[Any] = [None] * len(strategies)
        start = threading.Barrier(len(strategies))

        def run(index: int) -> None:
            try:
                start.wait()
                results[index] = attempt(index, strategies[index])
            except BaseException as error:  # compared by the test
                results[index] = error

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(strategies))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        return results

    # -- expected versions ----------------------------------------------------------------
    @requires("expected_versions")
    def test_expected_no_stream(self) -> None:
        sequence_id = uuid4()
        first = [self.item(sequence_id, 0), self.item(sequence_id, 1)]
        self.strategy.append(first, expected_version=NO_STREAM)
        with self.assertRaises(WrongExpectedVersionError) as caught:
            self.strategy.append(self.item(sequence_id, 2), expected_version=NO_STREAM)
        error = caught.exception
        self.assertIsInstance(error, ConcurrencyError)
        self.assertIs(error.expected, NO_STREAM)
        self.assertEqual(error.found, 1)
        self.assertEqual(error.sequence_id, sequence_id)
        message = str(error)
        for part in (str(sequence_id), "NO_STREAM", "last position 1", "nothing"):
            self.assertIn(part, message)
        self.assertEqual(self.strategy.get_items(sequence_id), first)

    @requires("expected_versions")
    def test_expected_stream_exists(self) -> None:
        sequence_id = uuid4()
        with self.assertRaises(WrongExpectedVersionError) as caught:
            self.strategy.append(self.item(sequence_id, 0), expected_version=STREAM_EXISTS)
        self.assertIsNone(caught.exception.found)
        self.assertIn("STREAM_EXISTS", str(caught.exception))
        self.assertIn("found no item", str(caught.exception))
        self.assertEqual(self.strategy.get_items(sequence_id), [])
        self.strategy.append(self.item(sequence_id, 0))
        self.strategy.append(self.item(sequence_id, 1), expected_version=STREAM_EXISTS)
        self.assertEqual([i[1] for i in self.strategy.get_items(sequence_id)], [0, 1])

    @requires("expected_versions")
    def test_expected_exact_position_of_the_last_event(self) -> None:
        sequence_id = uuid4()
        with self.assertRaises(WrongExpectedVersionError):
            self.strategy.append(self.item(sequence_id, 0), expected_version=0)
        self.strategy.append([self.item(sequence_id, 0), self.item(sequence_id, 2)])
        with self.assertRaises(WrongExpectedVersionError) as caught:  # 0 is not the last
            self.strategy.append(self.item(sequence_id, 3), expected_version=0)
        self.assertEqual((caught.exception.expected, caught.exception.found), (0, 2))
        self.assertIn("expected last position 0, found last position 2", str(caught.exception))
        self.strategy.append([self.item(sequence_id, 3), self.item(sequence_id, 5)],
                             expected_version=2)
        self.assertEqual([i[1] for i in self.strategy.get_items(sequence_id)], [0, 2, 3, 5])
        self.strategy.append(self.item(sequence_id, 6), expected_version=ANY)

    @requires("expected_versions")
    def test_expected_version_violation_writes_nothing_anywhere(self) -> None:
        sequence_id = uuid4()
        self.strategy.append(self.item(sequence_id, 0))
        before = self.strategy.read_all(0, 1_000_000) if self.capabilities.global_order else []
        for expected in (NO_STREAM, 5, 1):
            with self.assertRaises(WrongExpectedVersionError):
                self.strategy.append([self.item(sequence_id, p) for p in (1, 2, 3)],
                                     expected_version=expected)
        self.assertEqual([i[1] for i in self.strategy.get_items(sequence_id)], [0])
        if self.capabilities.global_order:
            self.assertEqual(self.strategy.read_all(0, 1_000_000), before)

    @requires("expected_versions")
    def test_bad_expected_versions_are_refused(self) -> None:
        sequence_id = uuid4()
        for expected in (-1, "1", True, 1.5, None, object()):
            with self.assertRaises(InvalidEventError) as caught:
                self.strategy.append(self.item(sequence_id, 0), expected_version=expected)
            self.assertIn("expected_version", str(caught.exception))
        if self.capabilities.transactions_across_sequences:
            with self.assertRaises(InvalidEventError) as caught:
                self.strategy.append([self.item(sequence_id, 0), self.item(uuid4(), 0)],
                                     expected_version=NO_STREAM)
            self.assertIn("one sequence", str(caught.exception))
        self.assertEqual(self.strategy.get_items(sequence_id), [])

    @requires("expected_versions")
    def test_racers_expecting_the_same_version_one_wins(self) -> None:
        """Racers append to distinct positions, each expecting the same last position: the
        check is atomic with the write only if exactly one of them wins each round."""
        sequence_id = uuid4()
        strategies = [self.create_strategy(self.record) for _ in range(self.racers)]
        try:
            last: Any = NO_STREAM
            position = 0
            for _round in range(5):
                def attempt(index: int, strategy: Any, last: Any = last,
                            position: int = position) -> Any:
                    item = self.item(sequence_id, position + index, f'{{"w":{index}}}')
                    strategy.append(item, expected_version=last)
                    return item

                results = self._race(strategies, attempt)
                won = [r for r in results if not isinstance(r, BaseException)]
                lost = [r for r in results if isinstance(r, BaseException)]
                self.assertEqual(len(won), 1, f"round {_round}: {results}")
                for error in lost:
                    self.assertIsInstance(error, WrongExpectedVersionError)
                last = won[0][1]
                position += self.racers
            self.assertEqual(len(self.strategy.get_items(sequence_id)), 5)
        finally:
            for strategy in strategies:
                strategy.close()

    @requires("expected_versions")
    def test_event_store_appends_with_expected_versions(self) -> None:
        store = self.make_event_store(_mapper(self.item_class), self.strategy)
        sequence_id = uuid4()
        events = [DomainEvent(originator_id=sequence_id, originator_version=v, n=v)
                  for v in range(3)]
        store.append(events[:2], expected_version=NO_STREAM)
        with self.assertRaises(WrongExpectedVersionError):
            store.append(events[2], expected_version=0)
        store.append(events[2], expected_version=1)
        self.assertEqual(store.get_domain_events(sequence_id), events)

    @requires_not("expected_versions")
    def test_expected_versions_are_refused_where_unsupported(self) -> None:
        sequence_id = uuid4()
        with self.assertRaises(UnsupportedFeatureError) as caught:
            self.strategy.append(self.item(sequence_id, 0), expected_version=NO_STREAM)
        self.assertIn("expected_versions", str(caught.exception))
        self.assertIsInstance(caught.exception, NotImplementedError)
        self.assertEqual(self.strategy.get_items(sequence_id), [])

    # -- event ids: idempotent appends ---------------------------------------------------
    def enveloped_item(self, sequence_id: Any, position: Any, event_id: Any = None,
                       data: str = '{"n":1}', metadata: str = "") -> Any:
        item_class = self.opened("enveloped").sequenced_item_class
        return item_class(sequence_id, position, TOPIC, data, event_id or uuid4(), metadata)

    def _all_of(self, strategy: Any) -> list[Any]:
        return [o.item for o in strategy.read_all(0, 10_000_000)]

    @requires("event_ids")
    def test_enveloped_items_come_back_exactly(self) -> None:
        strategy = self.opened("enveloped")
        sequence_id = uuid4()
        items = [self.enveloped_item(sequence_id, p, metadata=m)
                 for p, m in enumerate(["", '{"user":"ünï ✓"}', '{"x":' + "1" * 5000 + "}"])]
        strategy.append(items)
        got = strategy.get_items(sequence_id)
        self.assertEqual(got, items)
        self.assertEqual([type(i) for i in got], [strategy.sequenced_item_class] * 3)
        self.assertEqual([type(i[4]) for i in got], [UUID] * 3)

    @requires("event_ids")
    def test_the_same_events_again_write_nothing(self) -> None:
        strategy = self.opened("enveloped")
        sequence_id = uuid4()
        items = [self.enveloped_item(sequence_id, p) for p in range(4)]
        strategy.append(items)
        before = self._all_of(strategy) if self.capabilities.global_order else None
        strategy.append(items)  # a retry after a timeout: succeeds
        strategy.append(items[2])
        self.assertEqual(strategy.get_items(sequence_id), items)
        if before is not None:
            self.assertEqual(self._all_of(strategy), before, "a retry wrote again")

    @requires("event_ids")
    def test_the_same_position_with_another_event_id_conflicts(self) -> None:
        strategy = self.opened("enveloped")
        sequence_id = uuid4()
        items = [self.enveloped_item(sequence_id, p) for p in range(3)]
        strategy.append(items)
        intruder = self.enveloped_item(sequence_id, 1)
        with self.assertRaises(ConcurrencyError) as caught:
            strategy.append([self.enveloped_item(sequence_id, 3), items[2], intruder])
        self.assertIn(str(sequence_id), str(caught.exception))
        self.assertIn("1", str(caught.exception))
        self.assertEqual(strategy.get_items(sequence_id), items, "nothing may be written")

    @requires("event_ids")
    def test_a_retry_of_a_list_cut_off_midway_completes_it(self) -> None:
        """The first attempt stored the first half (a backend that writes a long list in
        parts, cut off by a timeout); the whole list again stores the rest, once each."""
        strategy = self.opened("enveloped")
        sequence_id = uuid4()
        items = [self.enveloped_item(sequence_id, p, data=f'{{"p":{p}}}') for p in range(10)]
        strategy.append(items[:5])  # what the cut-off attempt got written
        before = len(self._all_of(strategy)) if self.capabilities.global_order else 0
        strategy.append(items)
        self.assertEqual(strategy.get_items(sequence_id), items)
        if self.capabilities.global_order:
            self.wait_until_visible()
            after = self._all_of(strategy)
            self.assertEqual(len(after), before + 5)
            self.assertEqual([i for i in after if i[0] == sequence_id], items)

    @requires("event_ids")
    def test_racers_retrying_the_same_list_store_it_once(self) -> None:
        strategy = self.opened("enveloped")
        sequence_id = uuid4()
        items = [self.enveloped_item(sequence_id, p) for p in range(20)]
        strategies = [strategy] * self.racers
        results = self._race(strategies, lambda i, s: s.append(items[i:]))
        self.assertEqual([r for r in results if r is not None], [])
        self.assertEqual(strategy.get_items(sequence_id), items)

    @requires("event_ids")
    def test_bad_event_ids_are_refused(self) -> None:
        strategy = self.opened("enveloped")
        sequence_id = uuid4()
        item_class = strategy.sequenced_item_class
        for event_id in (str(uuid4()), None, 5):
            with self.assertRaises(InvalidEventError) as caught:
                strategy.append(item_class(sequence_id, 0, TOPIC, "{}", event_id, ""))
            self.assertIn("event id", str(caught.exception))
        same = uuid4()
        with self.assertRaises(InvalidEventError):
            strategy.append([self.enveloped_item(sequence_id, 0, same),
                             self.enveloped_item(sequence_id, 1, same)])
        self.assertEqual(strategy.get_items(sequence_id), [])

    @requires("event_ids", "expected_versions")
    def test_a_retry_with_an_expected_version_succeeds(self) -> None:
        strategy = self.opened("enveloped")
        sequence_id = uuid4()
        items = [self.enveloped_item(sequence_id, p) for p in range(6)]
        strategy.append(items[:3], expected_version=NO_STREAM)
        strategy.append(items[:3], expected_version=NO_STREAM)  # the same append again
        strategy.append(items[3:4])  # the first of the next list got stored, then a retry:
        strategy.append(items[3:], expected_version=2)
        self.assertEqual(strategy.get_items(sequence_id), items)
        with self.assertRaises(WrongExpectedVersionError):
            strategy.append(self.enveloped_item(sequence_id, 6), expected_version=2)

    @requires("event_ids")
    def test_events_get_their_own_ids_or_new_ones(self) -> None:
        strategy = self.opened("enveloped")
        store = self.make_event_store(_mapper(strategy.sequenced_item_class), strategy)
        sequence_id = uuid4()
        own = uuid4()
        events = [DomainEvent(originator_id=sequence_id, originator_version=0, event_id=own),
                  DomainEvent(originator_id=sequence_id, originator_version=1, n=1),
                  DomainEvent(originator_id=sequence_id, originator_version=2, n=2)]
        store.append(events)
        items = strategy.get_items(sequence_id)
        self.assertEqual(items[0][4], own)
        self.assertEqual(len({i[4] for i in items}), 3)
        self.assertEqual(store.get_domain_events(sequence_id), events)
        store.append(events[0])  # carries its id: a retry writes nothing
        with self.assertRaises(ConcurrencyError):  # a new id each time: not the same event
            store.append(events[1])
        envelopes = store.get_envelopes(sequence_id)
        self.assertEqual([e.event_id for e in envelopes], [i[4] for i in items])
        self.assertEqual([e.event for e in envelopes], events)

    @requires_not("event_ids")
    def test_event_ids_are_refused_where_unsupported(self) -> None:
        from ..streams import Envelope

        store = self.make_event_store(_mapper(self.item_class), self.strategy)
        sequence_id = uuid4()
        event = DomainEvent(originator_id=sequence_id, originator_version=0)
        with self.assertRaises(UnsupportedFeatureError) as caught:
            store.append(Envelope(event, event_id=uuid4()))
        self.assertIn("EnvelopedItem", str(caught.exception))
        self.assertEqual(store.get_domain_events(sequence_id), [])

    # -- metadata ------------------------------------------------------------------------
    @requires("metadata")
    def test_metadata_travels_beside_the_event(self) -> None:
        from ..streams import Envelope

        strategy = self.opened("enveloped")
        store = self.make_event_store(_mapper(strategy.sequenced_item_class), strategy)
        sequence_id = uuid4()
        events = [DomainEvent(originator_id=sequence_id, originator_version=v, n=v)
                  for v in range(3)]
        correlation = uuid4()
        store.append([Envelope(events[0], {"causation_id": "cmd-1", "user": "ünï"}),
                      events[1], Envelope(events[2], {"correlation_id": "mine"})],
                     metadata={"correlation_id": str(correlation)})
        envelopes = store.get_envelopes(sequence_id)
        self.assertEqual([e.event for e in envelopes], events)
        for event in store.get_domain_events(sequence_id):
            self.assertFalse(hasattr(event, "correlation_id"), "metadata became an attribute")
        metadata = [{k: v for k, v in e.metadata.items() if k != "traceparent"}
                    for e in envelopes]
        self.assertEqual(metadata, [
            {"correlation_id": str(correlation), "causation_id": "cmd-1", "user": "ünï"},
            {"correlation_id": str(correlation)},
            {"correlation_id": "mine"},
        ])
        store.append(DomainEvent(originator_id=sequence_id, originator_version=3))
        self.assertEqual(store.get_envelopes(sequence_id, gte=3)[0].metadata.keys()
                         - {"traceparent"}, set())

    @requires("metadata")
    def test_metadata_reads_without_decrypting_the_state(self) -> None:
        from ..streams import Envelope

        strategy = self.opened("enveloped")
        cipher = _ToyCipher()
        mapper = _mapper(strategy.sequenced_item_class, cipher=cipher, always_encrypt=True)
        store = self.make_event_store(mapper, strategy)
        sequence_id = uuid4()
        event = DomainEvent(originator_id=sequence_id, originator_version=0, secret="s3cr3t")
        store.append(Envelope(event, {"user": "alice"}))
        item = strategy.get_item(sequence_id, 0)
        self.assertNotIn("s3cr3t", item[3])
        self.assertIn("alice", item[5], "metadata is not encrypted unless asked")
        cipher.broken = True  # the state cannot be decrypted any more: metadata still reads
        self.assertEqual(mapper.metadata_of(item), {"user": "alice"})
        self.assertEqual(cipher.decrypted, 0)

    @requires("metadata")
    def test_metadata_is_encrypted_when_asked(self) -> None:
        from ..streams import Envelope

        strategy = self.opened("enveloped")
        mapper = _mapper(strategy.sequenced_item_class, cipher=_ToyCipher(),
                         encrypt_metadata=True)
        store = self.make_event_store(mapper, strategy)
        sequence_id = uuid4()
        event = DomainEvent(originator_id=sequence_id, originator_version=0, n=1)
        store.append(Envelope(event, {"user": "alice"}))
        item = strategy.get_item(sequence_id, 0)
        self.assertNotIn("alice", item[5])
        self.assertIn('"n"', item[3], "the state is not encrypted unless asked")
        self.assertEqual(store.get_envelopes(sequence_id)[0],
                         Envelope(event, {"user": "alice"}, item[4]))

    @requires("metadata")
    def test_bad_metadata_is_refused(self) -> None:
        from ..streams import Envelope

        strategy = self.opened("enveloped")
        store = self.make_event_store(_mapper(strategy.sequenced_item_class), strategy)
        sequence_id = uuid4()
        event = DomainEvent(originator_id=sequence_id, originator_version=0)
        for metadata in ({1: "x"}, ["a"], {"x": object()}):
            with self.assertRaises(InvalidEventError):
                store.append(Envelope(event, metadata))  # type: ignore[arg-type]
        with self.assertRaises(InvalidEventError):
            strategy.append(self.enveloped_item(sequence_id, 0, metadata="{\x00}"))
        self.assertEqual(strategy.get_items(sequence_id), [])

    @requires_not("metadata")
    def test_metadata_is_refused_where_unsupported(self) -> None:
        store = self.make_event_store(_mapper(self.item_class), self.strategy)
        sequence_id = uuid4()
        with self.assertRaises(UnsupportedFeatureError):
            store.append(DomainEvent(originator_id=sequence_id, originator_version=0),
                         metadata={"user": "alice"})
        self.assertEqual(store.get_domain_events(sequence_id), [])

    # -- named streams ---------------------------------------------------------------------
    @requires("named_streams")
    def test_named_streams_keep_order_ranges_and_conflicts(self) -> None:
        name = f"order-{uuid4().hex[:12]}"
        items = [self.item(name, p, f'{{"p":{p}}}') for p in (0, 1, 2, 4, 5, 7)]
        self.strategy.append(items[3:])
        self.strategy.append(items[:3])
        self.assertEqual(self.strategy.get_items(name), items)
        self.assertEqual(self.strategy.get_items(name, gt=1, lte=5), items[2:5])
        self.assertEqual(self.strategy.get_items(name, limit=2, is_ascending=False),
                         [items[5], items[4]])
        self.assertEqual(self.strategy.get_item(name, 4), items[3])
        with self.assertRaises(ConcurrencyError) as caught:
            self.strategy.append([self.item(name, 8), self.item(name, 2)])
        self.assertIn(name, str(caught.exception))
        self.assertEqual(self.strategy.get_items(name), items)
        self.assertEqual(self.strategy.get_items(name + "x"), [])
        self.assertEqual([i[0] for i in self.strategy.get_items(name)], [name] * 6)
        self.assertIs(type(self.strategy.get_items(name)[0][0]), str)

    @requires("named_streams", "transactions_across_sequences")
    def test_named_and_uuid_streams_in_one_store(self) -> None:
        sequence_id = uuid4()
        name = f"acct-{sequence_id.hex[:10]}"
        both = [self.item(sequence_id, 0), self.item(name, 0), self.item(name, 1)]
        self.strategy.append(both)
        self.assertEqual(self.strategy.get_items(sequence_id), both[:1])
        self.assertEqual(self.strategy.get_items(name), both[1:])
        with self.assertRaises(ConcurrencyError):
            self.strategy.append([self.item(sequence_id, 1), self.item(name, 1)])
        self.assertEqual(len(self.strategy.get_items(sequence_id)), 1)

    @requires("named_streams")
    def test_threads_racing_for_positions_of_a_named_stream(self) -> None:
        name = f"race-{uuid4().hex}"
        strategies = [self.create_strategy(self.record) for _ in range(self.racers)]

        def claim(index: int, strategy: Any) -> list[int]:
            won = []
            for position in range(15):
                try:
                    strategy.append(self.item(name, position, f'{{"w":{index}}}'))
                except ConcurrencyError:
                    continue
                won.append(position)
            return won

        results = self._race(strategies, claim)
        for strategy in strategies:
            strategy.close()
        self.assertEqual(sorted(p for won in results for p in won), list(range(15)))
        winners = {p: i for i, won in enumerate(results) for p in won}
        for item in self.strategy.get_items(name):
            self.assertEqual(item[3], f'{{"w":{winners[item[1]]}}}')

    @requires("named_streams")
    def test_stream_names_no_backend_can_store_are_refused(self) -> None:
        for name in ("", "x" * 256, "a\x00b", str(uuid4()), uuid4().hex):
            with self.assertRaises(InvalidEventError) as caught:
                self.strategy.append(self.item(name, 0))
            self.assertIn("stream name", str(caught.exception))
            with self.assertRaises(InvalidEventError):
                self.strategy.get_items(name)
        self.strategy.append(self.item("x" * 255, 0))  # the longest name
        self.assertEqual(len(self.strategy.get_items("x" * 255)), 1)

    @requires_not("named_streams")
    def test_stream_names_are_refused_where_unsupported(self) -> None:
        with self.assertRaises(InvalidEventError) as caught:
            self.strategy.append(self.item("order-1", 0))
        self.assertIn("'order-1'", str(caught.exception))
        self.assertIn("UUID", str(caught.exception))

    # -- category reads ----------------------------------------------------------------------
    @requires("category_reads")
    def test_a_category_read_gives_its_streams_in_global_order(self) -> None:
        tag = uuid4().hex[:8]
        category = f"ord{tag}"
        names = [f"{category}-1", f"{category}-2", f"{category}x-1", f"inv{tag}-1", category]
        uuid_stream = uuid4()
        start = self.last_position()
        for position in range(3):
            for name in names:
                self.strategy.append(self.item(name, position))
            self.strategy.append(self.item(uuid_stream, position))
            self.strategy.append(self.item(f"{category}-{position + 3}", 0))
        self.wait_until_visible()
        everything = self.strategy.read_all(start, 1_000_000)
        expected = [o for o in everything if isinstance(o.item[0], str)
                    and o.item[0].startswith(category + "-")]
        self.assertEqual(len(expected), 9)
        got = self.strategy.read_all(start, 1000, category=category)
        self.assertEqual(got, expected)
        paged, after = [], start
        while True:
            page = self.strategy.read_all(after, 2, category=category)
            if not page:
                break
            paged.extend(page)
            after = page[-1].global_position
        self.assertEqual(paged, expected)
        self.assertEqual(self.strategy.read_all(start, 0, category=category), [])
        self.assertEqual(self.strategy.read_all(start, 10, category=f"none{tag}"), [])

    @requires("category_reads")
    def test_a_category_subscription_follows_its_streams_live(self) -> None:
        """A subscription of one category gets its items once, in global order, while
        other streams are written too (it waits past their items, not on them)."""
        tag = uuid4().hex[:8]
        category = f"cat{tag}"
        start = self.last_position()
        for position in range(3):
            self.strategy.append(self.item(f"{category}-a", position))
            self.strategy.append(self.item(f"other{tag}-a", position))
        subscription = self.make_subscription(self.strategy, after=start, timeout=1.0,
                                              category=category)
        got: list[Any] = []
        follower = threading.Thread(target=lambda: got.extend(subscription))
        follower.start()
        for position in range(3, 40):
            self.strategy.append(self.item(f"other{tag}-a", position))
            if position % 4 == 0:
                self.strategy.append(self.item(f"{category}-b", position))
        follower.join(timeout=120)
        self.assertFalse(follower.is_alive(), "the subscription did not end")
        self.wait_until_visible()
        expected = [o for o in self.strategy.read_all(start, 1_000_000)
                    if isinstance(o.item[0], str) and o.item[0].startswith(category + "-")]
        self.assertEqual(len(expected), 3 + 9)
        self.assertEqual(got, expected)
        self.assertEqual(subscription.position, expected[-1].global_position)
        with self.assertRaises(InvalidEventError):
            self.make_subscription(self.strategy, category="a-b")

    @requires("category_reads")
    def test_bad_categories_are_refused(self) -> None:
        for category in ("", "order-1", 5, "a\x00", "x" * 256):
            with self.assertRaises(InvalidEventError) as caught:
                self.strategy.read_all(0, 10, category=category)  # type: ignore[arg-type]
            self.assertIn("category", str(caught.exception))

    @requires("global_order")
    @requires_not("category_reads")
    def test_category_reads_are_refused_where_unsupported(self) -> None:
        with self.assertRaises(UnsupportedFeatureError) as caught:
            self.strategy.read_all(0, 10, category="order")
        self.assertIn("category_reads", str(caught.exception))


def _mapper(item_class: Any, **options: Any) -> SequencedItemMapper[Any]:
    """A mapper of DomainEvents (``originator_id``, ``originator_version``)."""
    return SequencedItemMapper(item_class, "originator_id", "originator_version", **options)


class _ToyCipher:
    """Reverses text (a cipher only in name): enough to tell what was encrypted and to
    count decryptions; ``broken`` makes every decryption fail."""

    def __init__(self) -> None:
        self.broken = False
        self.decrypted = 0

    def encrypt(self, plaintext: str) -> str:
        return "~" + plaintext[::-1].replace('"', "'")

    def decrypt(self, ciphertext: str) -> str:
        from ..exceptions import DataIntegrityError

        self.decrypted += 1
        if self.broken or not ciphertext.startswith("~"):
            raise DataIntegrityError("cannot decrypt")
        return ciphertext[1:].replace("'", '"')[::-1]
