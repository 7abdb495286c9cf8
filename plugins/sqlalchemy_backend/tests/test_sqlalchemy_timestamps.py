"""Timestamp positions: exact integer microseconds in SQL, bounds that select what Decimals do."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from eventstore_core.exceptions import InvalidEventError
from eventstore_core.memory import InMemoryActiveRecordStrategy
from eventstore_core.sequenceditem import SequencedItem
from sqlalchemy import text

from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy, TimestampSequencedItemRecord
from eventstore_sqlalchemy.timestamps import MAX_SECONDS, MIN_SECONDS, bound

TOPIC = "eventstore_core.events#TimestampedEvent"
US = Decimal("0.000001")


@pytest.fixture
def timestamps(any_uri: str) -> Any:
    made: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        active_record_class=TimestampSequencedItemRecord, uri=any_uri
    )
    assert made.position_type is Decimal
    yield made
    made.close()


def test_bounds_between_microseconds_select_what_decimal_comparison_selects(
    timestamps: Any,
) -> None:
    """Against the in-memory backend, which compares the Decimals themselves."""
    sequence_id = uuid4()
    base = Decimal("1795757486.000000")
    stamps = [base + n * US for n in (0, 1, 2, 5, 6, 9)]
    items = [SequencedItem(sequence_id, t, TOPIC, "{}") for t in stamps]
    timestamps.append(items)
    memory: InMemoryActiveRecordStrategy[Any] = InMemoryActiveRecordStrategy(position_type=Decimal)
    memory.append(items)
    rng = random.Random(4)
    candidates = [base + Decimal(n) / 10 * US for n in range(-15, 105, 5)]  # on and between µs
    candidates += [float(base), int(base), base + Decimal("0.0000005")]
    for _ in range(300):
        bounds = {name: rng.choice([None, *candidates]) for name in ("gt", "gte", "lt", "lte")}
        limit = rng.choice([None, 1, 3])
        ascending = rng.choice([True, False])
        expected = memory.get_items(sequence_id, **bounds, limit=limit, is_ascending=ascending)
        got = timestamps.get_items(sequence_id, **bounds, limit=limit, is_ascending=ascending)
        assert got == expected, (bounds, limit, ascending)


def test_bounds_beyond_the_column_select_as_decimals_would(timestamps: Any) -> None:
    sequence_id = uuid4()
    one = SequencedItem(sequence_id, Decimal("1795757486.5"), TOPIC, "{}")
    timestamps.append(one)
    assert timestamps.get_items(sequence_id, lt=Decimal("1e30")) == [one]
    assert timestamps.get_items(sequence_id, gt=Decimal("-1e30")) == [one]
    assert timestamps.get_items(sequence_id, gt=Decimal("1e30")) == []
    assert timestamps.get_item(sequence_id, Decimal("1795757486.500000")) == one


def test_bad_bounds_are_refused(timestamps: Any) -> None:
    for bad in ("1795757486", Decimal("NaN"), float("inf"), True):
        with pytest.raises(ValueError, match="gt="):
            timestamps.get_items(uuid4(), gt=bad)


def test_timestamps_beyond_the_column_are_refused(timestamps: Any) -> None:
    sequence_id = uuid4()
    for position in (MAX_SECONDS + 1, MIN_SECONDS - 1):
        with pytest.raises(InvalidEventError, match="does not fit"):
            timestamps.append(SequencedItem(sequence_id, position, TOPIC, "{}"))
    extremes = [SequencedItem(sequence_id, p, TOPIC, "{}") for p in (MIN_SECONDS, MAX_SECONDS)]
    timestamps.append(extremes)
    assert timestamps.get_items(sequence_id) == extremes


def test_stored_as_integer_microseconds(timestamps: Any) -> None:
    """Other tools see an ordinary BIGINT of microseconds since the epoch."""
    sequence_id = uuid4()
    timestamps.append(SequencedItem(sequence_id, Decimal("1795757486.000123"), TOPIC, "{}"))
    engine = timestamps.datastore.engine
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT position FROM timestamp_sequenced_items WHERE topic = :t "
                 "ORDER BY global_position DESC LIMIT 1"),
            {"t": TOPIC},
        ).scalar_one()
    assert stored == 1795757486000123


def test_bound_rounding() -> None:
    assert bound("gt", Decimal("1.0000005")) == Decimal("1.000000")
    assert bound("lte", Decimal("1.0000005")) == Decimal("1.000000")
    assert bound("gte", Decimal("1.0000005")) == Decimal("1.000001")
    assert bound("lt", Decimal("1.0000005")) == Decimal("1.000001")
    assert bound("lt", 2) == Decimal("2.000000")
    assert bound("lt", Decimal("-1.0000005")) == Decimal("-1.000000")
