"""Property-based: arbitrary nested values come back as themselves through the mapper and
through stores (the kit's ``RoundTripTestCase``; each backend's suite can add its own)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings

from eventstore_core import (
    DomainEvent,
    InMemoryActiveRecordStrategy,
    JSONObjectDecoder,
    JSONObjectEncoder,
    SequencedItemMapper,
    StoredEvent,
)
from eventstore_core.testing.roundtrip_tests import (
    RoundTripTestCase,
    assert_same,
    attributes,
    values,
)
from eventstore_core.testing.snapshot_tests import ReversingTestCipher

_SETTINGS = settings(max_examples=120, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(values())
def test_the_codec_gives_back_every_value(value: Any) -> None:
    text = JSONObjectEncoder().encode({"value": value})
    decoder = JSONObjectDecoder()
    assert_same(value, decoder.decode(text)["value"])
    assert_same(value, decoder.decode(text)["value"])  # remembered keys: the same again


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_the_mapper_gives_back_every_event(encrypted: bool) -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(
        sequenced_item_class=StoredEvent,
        **({"cipher": ReversingTestCipher(), "always_encrypt": True} if encrypted else {}),
    )

    @_SETTINGS
    @given(attributes(reserved=("originator_id", "originator_version"), max_leaves=10))
    def round_trip(attrs: dict[str, Any]) -> None:
        event = DomainEvent(originator_id=uuid4(), originator_version=0, **attrs)
        item = mapper.to_sequenced_item(event)
        for _ in range(2):  # the second read goes by the decoder's remembered keys
            back = mapper.from_sequenced_item(item)
            assert_same(vars(event), vars(back))
        assert mapper.to_sequenced_item(back) == item  # deterministic

    round_trip()


class TestInMemoryRoundTrips(RoundTripTestCase):
    def create_strategy(self) -> Any:
        return InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent)


class TestSQLiteRoundTrips(RoundTripTestCase):
    max_examples = 30

    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path

    def create_strategy(self) -> Any:
        sqlalchemy = pytest.importorskip("eventstore_sqlalchemy")
        strategy = sqlalchemy.SQLAlchemyActiveRecordStrategy(
            uri=f"sqlite:///{self.folder / 'roundtrip.sqlite3'}"
        )
        self.addCleanup(strategy.close)
        return strategy
