"""Typed events (issue 12 part 6, first kind): frozen dataclasses as event classes."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventstore_core import (
    InvalidEventError,
    SequencedItemMapper,
    StoredEvent,
    TopicResolutionError,
    register_class,
)
from eventstore_core.testing.roundtrip_tests import same


@register_class
@dataclasses.dataclass(frozen=True)
class PriceChanged:
    originator_id: UUID
    originator_version: int
    price: Decimal
    at: datetime.datetime
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class NotRegistered:
    originator_id: UUID
    originator_version: int


@register_class
@dataclasses.dataclass(frozen=True, slots=True)
class Slotted:
    originator_id: UUID
    originator_version: int


def _mapper() -> SequencedItemMapper[Any]:
    return SequencedItemMapper(sequenced_item_class=StoredEvent)


def test_a_registered_frozen_dataclass_round_trips_exactly() -> None:
    event = PriceChanged(uuid4(), 3, Decimal("9.990"),
                         datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
                         ("a", "b"))
    item = _mapper().to_sequenced_item(event)
    back = _mapper().from_sequenced_item(item)
    assert type(back) is PriceChanged and back == event
    assert same(dataclasses.asdict(back), dataclasses.asdict(event))
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.price = Decimal(0)  # type: ignore[misc]


def test_an_unregistered_or_slotted_dataclass_is_refused_clearly() -> None:
    with pytest.raises(TopicResolutionError, match="not an event class"):
        _mapper().to_sequenced_item(NotRegistered(uuid4(), 0))
    with pytest.raises(InvalidEventError, match="__slots__"):
        _mapper().to_sequenced_item(Slotted(uuid4(), 0))
