"""Registers the ``sqlalchemy`` backend with eventstore (entry point group ``eventstore``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import eventstore_core
from eventstore_core.config import Option
from eventstore_core.exceptions import ConfigurationError
from eventstore_core.sequenceditem import SequencedItem, StoredEvent

from .datastore import DEFAULT_URI, SQLAlchemySettings
from .records import (
    IntegerSequencedItemRecord,
    SnapshotRecord,
    StoredEventRecord,
    TimestampSequencedItemRecord,
)
from .strategy import SQLAlchemyActiveRecordStrategy

#: ``record=`` choices: the sequenced item class and the record class (table) for each.
#: ``timestamp`` positions items by ``Decimal`` timestamps (map events with
#: ``position_attr_name="timestamp"``); ``snapshot`` is the table of a snapshot store.
RECORDS: dict[str, tuple[type, type]] = {
    "integer": (SequencedItem, IntegerSequencedItemRecord),
    "stored_event": (StoredEvent, StoredEventRecord),
    "timestamp": (SequencedItem, TimestampSequencedItemRecord),
    "snapshot": (SequencedItem, SnapshotRecord),
}

OPTIONS = (
    Option("uri", "SQLAlchemy database URL", default=DEFAULT_URI),
    Option(
        "record",
        "which table and item type: " + ", ".join(RECORDS),
        default="integer",
    ),
    Option(
        "sqlite_synchronous",
        "SQLite PRAGMA synchronous: FULL (durable, default), NORMAL, OFF or EXTRA",
        default="FULL",
    ),
    Option(
        "sqlite_busy_timeout",
        "seconds a SQLite writer waits for another's lock",
        default=60.0,
        parse=float,
    ),
)


def create_strategy(
    uri: str = DEFAULT_URI,
    record: str = "integer",
    sqlite_synchronous: str = "FULL",
    sqlite_busy_timeout: float = 60.0,
) -> SQLAlchemyActiveRecordStrategy[Any]:
    """A ready strategy: connected lazily, its table created if it did not exist."""
    if record not in RECORDS:
        raise ConfigurationError(
            f"record={record!r} is not one of {', '.join(RECORDS)} "
            f"(option record= or environment variable EVENTSTORE_RECORD)"
        )
    sequenced_item_class, record_class = RECORDS[record]
    settings = SQLAlchemySettings(
        uri,
        sqlite_synchronous=sqlite_synchronous,
        sqlite_busy_timeout=float(sqlite_busy_timeout),
    )
    return SQLAlchemyActiveRecordStrategy(
        sequenced_item_class=sequenced_item_class,
        active_record_class=record_class,
        settings=settings,
    )


@eventstore_core.hookimpl
def register_backends(register: Callable[..., None]) -> None:
    register(
        "sqlalchemy", create_strategy, options=OPTIONS, distribution="eventstore-sqlalchemy"
    )
