"""Appends on every database: conflicts, atomic lists, input the columns cannot hold."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from eventstore_core.exceptions import ConcurrencyError, InvalidEventError
from eventstore_core.sequenceditem import SequencedItem

TOPIC = "eventstore_core.events#DomainEvent"


def items(sequence_id: Any, positions: Any, data: str = "{}") -> list[SequencedItem]:
    return [SequencedItem(sequence_id, p, TOPIC, data) for p in positions]


def test_duplicate_is_concurrency_error_and_nothing_changes(strategy: Any) -> None:
    sequence_id = uuid4()
    original = items(sequence_id, range(3), '{"original":1}')
    strategy.append(original)
    for intruder in (items(sequence_id, [1], "{}"), items(sequence_id, [2, 3, 4], "{}")):
        with pytest.raises(ConcurrencyError) as caught:
            strategy.append(intruder if len(intruder) > 1 else intruder[0])
        message = str(caught.value)
        assert str(sequence_id) in message
        assert f"position {intruder[0].position}" in message or "positions 2, 3, 4" in message
    assert strategy.get_items(sequence_id) == original
    strategy.append(items(sequence_id, [3]))  # the session is usable again
    assert [i.position for i in strategy.get_items(sequence_id)] == [0, 1, 2, 3]


@pytest.mark.parametrize("size", [2, 10, 150])  # below and above the COPY threshold
def test_list_whose_last_item_collides_writes_nothing(strategy: Any, size: int) -> None:
    sequence_id, other = uuid4(), uuid4()
    strategy.append(items(sequence_id, [size - 1]))
    batch = items(other, range(5)) + items(sequence_id, range(size))
    with pytest.raises(ConcurrencyError):
        strategy.append(batch)
    assert strategy.get_items(other) == []
    assert [i.position for i in strategy.get_items(sequence_id)] == [size - 1]
    strategy.append(batch[:-1])
    assert len(strategy.get_items(sequence_id)) == size
    assert strategy.get_items(other) == batch[:5]


def test_wrong_type_sequence_id_is_invalid_event_error(strategy: Any) -> None:
    good = uuid4()
    for bad in ("6f1c7a4e-0000-0000-0000-000000000000", 12345, None):
        with pytest.raises(InvalidEventError) as caught:
            strategy.append(
                [SequencedItem(good, 0, TOPIC, "{}"), SequencedItem(bad, 1, TOPIC, "{}")]  # type: ignore[arg-type]
            )
        assert repr(bad) in str(caught.value) or str(bad) in str(caught.value)
    assert strategy.get_items(good) == []
    with pytest.raises(InvalidEventError):
        strategy.get_items("not a uuid")


def test_what_the_columns_cannot_hold_is_refused_the_same_way_everywhere(strategy: Any) -> None:
    sequence_id = uuid4()
    bad_items = [
        SequencedItem(sequence_id, 2**63, TOPIC, "{}"),  # beyond BIGINT
        SequencedItem(sequence_id, 0, "m#" + "x" * 300, "{}"),  # beyond VARCHAR(255)
        SequencedItem(sequence_id, 0, TOPIC, b"{}"),  # type: ignore[arg-type]  # bytes in text
        SequencedItem(sequence_id, 0, TOPIC, "nul \x00 inside"),  # PostgreSQL text refuses NUL
    ]
    for bad in bad_items:
        with pytest.raises(InvalidEventError) as caught:
            strategy.append([SequencedItem(sequence_id, 1, TOPIC, "{}"), bad])
        assert str(sequence_id) in str(caught.value)
    assert strategy.get_items(sequence_id) == []
    edge = [SequencedItem(sequence_id, p, "m#" + "x" * 253, "{}") for p in (-(2**63), 2**63 - 1)]
    strategy.append(edge)
    assert strategy.get_items(sequence_id) == edge


def test_large_and_unusual_text_round_trips(strategy: Any) -> None:
    sequence_id = uuid4()
    texts = ["x" * 1_000_000, "emoji 🎉 and ünïcødé \x01", "tab\tnew\nline\r\\N \\.", ""]
    written = [SequencedItem(sequence_id, i, TOPIC, text) for i, text in enumerate(texts)]
    strategy.append(written)
    assert strategy.get_items(sequence_id) == written
    many = items(uuid4(), range(1000))
    strategy.append(many)
    assert strategy.get_items(many[0].sequence_id) == many
