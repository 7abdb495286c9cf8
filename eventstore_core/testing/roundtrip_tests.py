"""Property-based round trips: any nested value of a supported type comes back as itself.

Needs ``hypothesis`` (the ``dev`` extra). ``values()`` and ``attributes()`` are hypothesis
strategies of every value type the codec supports, nested in lists, dicts, tuples and sets;
``same(a, b)`` compares two values exactly (types, zones, ``fold``, a Decimal's exponent,
NaN). A backend runs the round trip through its store by subclassing ``RoundTripTestCase``
with ``create_strategy()``, as for the other cases of the conformance kit::

    from eventstore_core.testing.roundtrip_tests import RoundTripTestCase

    class TestMyBackendRoundTrips(RoundTripTestCase):
        def create_strategy(self):
            return MyStrategy(...)
"""

from __future__ import annotations

import datetime
import math
import unittest
from decimal import Decimal
from typing import Any
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..activerecordstrategy import AbstractActiveRecordStrategy
from ..events import DomainEvent
from ..eventstore import EventStore
from ..sequenceditemmapper import SequencedItemMapper

#: Names that look like the codec's tags, so that attribute names and dict keys test escaping.
TAG_LIKE_NAMES = [
    "__uuid__", "__dict__", "__int__", "__datetime__", "__datetime_fields__", "__tuple__",
    "__set__", "__decimal__", "__float__", "__bytes__", "__note__",
]


def _zones() -> st.SearchStrategy[datetime.tzinfo | None]:
    fixed = st.timedeltas(
        min_value=-datetime.timedelta(hours=23, minutes=59),
        max_value=datetime.timedelta(hours=23, minutes=59),
    ).map(datetime.timezone)
    small = st.integers(-999_999, 999_999).map(
        lambda micros: datetime.timezone(datetime.timedelta(microseconds=micros))
    )
    return st.none() | st.just(datetime.UTC) | fixed | small | st.timezones()


def _leaves() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**300), max_value=2**300),
        st.floats(),
        st.text(),
        st.sampled_from(TAG_LIKE_NAMES),
        st.uuids(),
        st.datetimes(timezones=_zones()),
        st.dates(),
        st.times(timezones=_zones()),
        st.decimals(),
        st.binary(max_size=32),
    )


_HASHABLE = st.one_of(st.integers(), st.text(max_size=8), st.uuids(), st.binary(max_size=8))
_KEYS = st.text(max_size=10) | st.sampled_from(TAG_LIKE_NAMES)


def values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Any supported value, nested in lists, dicts (str keys) and tuples, or a set of
    hashable plain values."""
    return st.recursive(
        _leaves() | st.sets(_HASHABLE, max_size=4) | st.frozensets(_HASHABLE, max_size=4),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(_KEYS, inner, max_size=4),
            st.lists(inner, max_size=3).map(tuple),
        ),
        max_leaves=max_leaves,
    )


def attributes(reserved: tuple[str, ...] = (), max_leaves: int = 20) -> st.SearchStrategy[
    dict[str, Any]
]:
    """The attributes of an event: names (some tag-like) to values, none of ``reserved``."""
    names = _KEYS.filter(lambda name: name not in reserved)
    return st.dictionaries(names, values(max_leaves), max_size=6)


def same(a: Any, b: Any) -> bool:
    """Whether ``b`` is exactly ``a``: same types all the way down, and for datetimes and
    times the same zone, offset and ``fold``."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if type(a) is Decimal:
        return a.as_tuple() == b.as_tuple()
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, datetime.datetime | datetime.time):
        return (
            a.replace(tzinfo=None) == b.replace(tzinfo=None)
            and a.tzinfo == b.tzinfo
            and a.fold == b.fold
            and a.isoformat() == b.isoformat()
        )
    return bool(a == b)


class RoundTripTestCase(unittest.TestCase):
    """Subclass with ``create_strategy()``: arbitrary values round-trip through the store."""

    #: How many generated events each test appends and reads back.
    max_examples = 50

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__test__ = cls.create_strategy is not RoundTripTestCase.create_strategy  # type: ignore[attr-defined]

    __test__ = False

    def create_strategy(self) -> AbstractActiveRecordStrategy[Any]:
        """Return a ready strategy on the test database (tables set up)."""
        raise NotImplementedError

    def test_any_values_come_back_as_themselves(self) -> None:
        strategy = self.create_strategy()
        mapper: SequencedItemMapper[Any] = SequencedItemMapper(
            sequenced_item_class=strategy.sequenced_item_class
        )
        store = EventStore(mapper, strategy)
        id_name, position_name = mapper.sequence_id_attr_name, mapper.position_attr_name
        sequence_id = uuid4()
        positions = iter(range(10**9))

        @settings(max_examples=self.max_examples, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(attributes(reserved=(id_name, position_name), max_leaves=10))
        def round_trip(attrs: dict[str, Any]) -> None:
            position = next(positions)
            event = DomainEvent(**attrs, **{id_name: sequence_id, position_name: position})
            store.append(event)
            (back,) = store.get_domain_events(sequence_id, gte=position, lte=position)
            self.assertTrue(same(vars(back), vars(event)), f"{vars(back)!r}")

        round_trip()


def assert_same(a: Any, b: Any) -> None:
    """``AssertionError`` (showing both) unless ``same(a, b)``."""
    if not same(a, b):
        raise AssertionError(f"{b!r} came back for {a!r}")


__all__ = ["RoundTripTestCase", "assert_same", "attributes", "same", "values"]
