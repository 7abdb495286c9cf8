"""Tests for sequences positioned by timestamps (``Decimal``, exact to the µs)."""

from __future__ import annotations

import unittest
from decimal import Decimal
from typing import Any
from uuid import uuid4

from ..activerecordstrategy import AbstractActiveRecordStrategy
from ..events import TimestampedEvent
from ..exceptions import ConcurrencyError, InvalidEventError
from ..sequenceditemmapper import SequencedItemMapper
from ..timestamps import decimal_timestamp
from .parts import StoreParts
from .requirements import requires

TOPIC = "eventstore_core.events#TimestampedEvent"


class TimestampTests(StoreParts, unittest.TestCase):
    """Timestamp positions (part of ``BackendTestCase``; run when ``timestamp_positions`` is
    declared, on ``create_strategy("timestamp")``)."""

    __test__ = False

    def opened(self, record: str) -> AbstractActiveRecordStrategy[Any]:
        raise NotImplementedError

    @property
    def stamps(self) -> AbstractActiveRecordStrategy[Any]:
        """The strategy of this test whose positions are ``Decimal`` timestamps."""
        return self.opened("timestamp")

    def stamped(self, sequence_id: Any, timestamp: Decimal, data: str = "{}") -> Any:
        return self.stamps.sequenced_item_class(sequence_id, timestamp, TOPIC, data)

    @requires("timestamp_positions")
    def test_timestamps_come_back_exact_to_the_microsecond(self) -> None:
        sequence_id = uuid4()
        base = decimal_timestamp()
        stamps = [base, base + Decimal("0.000001"), base + Decimal("0.000002"),
                  Decimal("4102444800.999999")]
        self.stamps.append([self.stamped(sequence_id, t, f'{{"i":{i}}}')
                              for i, t in enumerate(stamps)])
        got = self.stamps.get_items(sequence_id)
        self.assertEqual([item[1] for item in got], stamps)
        for item in got:
            self.assertIs(type(item[1]), Decimal)

    @requires("timestamp_positions")
    def test_same_timestamp_twice_is_a_concurrency_error(self) -> None:
        sequence_id = uuid4()
        stamp = decimal_timestamp()
        first = self.stamped(sequence_id, stamp, '{"first":true}')
        self.stamps.append(first)
        with self.assertRaises(ConcurrencyError):
            self.stamps.append(self.stamped(sequence_id, stamp, '{"second":true}'))
        # 1.5 and 1.500000 are the same instant
        with self.assertRaises(ConcurrencyError):
            self.stamps.append(self.stamped(sequence_id, stamp.quantize(Decimal("0.000001"))))
        self.assertEqual(self.stamps.get_items(sequence_id), [first])

    @requires("timestamp_positions")
    def test_ranges_by_time(self) -> None:
        sequence_id = uuid4()
        base = decimal_timestamp()
        stamps = [base + Decimal(i) / 1000 for i in range(10)]
        self.stamps.append([self.stamped(sequence_id, t) for t in stamps])
        got = self.stamps.get_items(sequence_id, gt=stamps[2], lte=stamps[6])
        self.assertEqual([i[1] for i in got], stamps[3:7])
        got = self.stamps.get_items(sequence_id, gte=stamps[2], lt=stamps[6], limit=2,
                                      is_ascending=False)
        self.assertEqual([i[1] for i in got], [stamps[5], stamps[4]])
        between = stamps[4] + Decimal("0.0005")
        got = self.stamps.get_items(sequence_id, lt=between, limit=1, is_ascending=False)
        self.assertEqual([i[1] for i in got], [stamps[4]])

    @requires("timestamp_positions")
    def test_floats_and_sub_microsecond_timestamps_are_refused(self) -> None:
        sequence_id = uuid4()
        for bad in (1795757486.5, Decimal("1.0000001"), Decimal("NaN")):
            with self.assertRaises(InvalidEventError):
                self.stamps.append(self.stamped(sequence_id, bad))  # type: ignore[arg-type]
        self.assertEqual(self.stamps.get_items(sequence_id), [])

    @requires("timestamp_positions")
    def test_timestamped_events_through_the_event_store(self) -> None:
        names = self.stamps.sequenced_item_class._fields
        mapper: SequencedItemMapper[Any] = SequencedItemMapper(
            sequenced_item_class=self.stamps.sequenced_item_class, sequence_id_attr_name=names[0],
            position_attr_name="timestamp",
        )
        store = self.make_event_store(mapper, self.stamps)
        sequence_id = uuid4()
        events = [TimestampedEvent(**{names[0]: sequence_id}, n=i) for i in range(5)]
        store.append(events)
        self.assertEqual(store.get_domain_events(sequence_id), events)
        middle = events[2].timestamp  # type: ignore[attr-defined]
        self.assertEqual(store.get_domain_events(sequence_id, gt=middle), events[3:])
        self.assertEqual(store.get_most_recent_event(sequence_id), events[-1])
        self.assertEqual(store.get_domain_events(sequence_id)[0].moment, events[0].moment)  # type: ignore[attr-defined]
