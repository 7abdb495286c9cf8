"""``describe()``: what ``eventstore info`` shows of a SQL store, on every database."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventstore_core.sequenceditem import SequencedItem
from sqlalchemy_databases import MYSQL_URI, POSTGRES_URI, sqlite_file_uri

from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy
from eventstore_sqlalchemy.records import IntegerSequencedItemRecord

TOPIC = "eventstore_core.events#DomainEvent"


@pytest.mark.parametrize("uri", [sqlite_file_uri("describe"), POSTGRES_URI, MYSQL_URI],
                         ids=["sqlite", "postgresql", "mariadb"])
def test_describe_counts_what_a_scan_counts_and_tells_the_size(uri: str) -> None:
    strategy = SQLAlchemyActiveRecordStrategy(
        sequenced_item_class=SequencedItem, active_record_class=IntegerSequencedItemRecord,
        uri=uri,
    )
    try:
        for _ in range(3):
            sequence_id = uuid4()
            strategy.append([SequencedItem(sequence_id, p, TOPIC, "{}") for p in range(4)])
        described = strategy.describe()
        scanned = list(strategy.all_items())
        assert described["items"] == len(scanned) >= 12
        assert described["sequences"] == len({item[0] for item in scanned})
        assert described["global_position"] == max(o.global_position for o in
                                                    _read_everything(strategy))
        (table,) = described["tables"]
        assert table["name"] == "integer_sequenced_items"
        assert table["rows"] == len(scanned)
        size = described.get("size_bytes", table.get("bytes"))
        assert isinstance(size, int) and size > 0
        assert described["backend"].startswith("sqlalchemy (")
    finally:
        strategy.close()


def _read_everything(strategy: SQLAlchemyActiveRecordStrategy[SequencedItem]) -> list:  # type: ignore[type-arg]
    everything, after = [], 0
    while page := strategy.read_all(after, 1000):
        everything.extend(page)
        after = page[-1].global_position
    return everything
