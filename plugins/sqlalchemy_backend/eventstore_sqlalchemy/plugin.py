"""Registers the ``sqlalchemy`` backend with eventstore (entry point group ``eventstore``).

This module only declares names, options and URL schemes; SQLAlchemy and the backend's
modules are imported when the factory runs, so that loading the plugin costs nothing for a
program that uses another backend. ``from_config("sqlite:///app.db")``,
``from_config("postgresql://user@host/db")`` and ``from_config("mysql://user@host/db")`` end
here too (``postgresql://`` uses psycopg 3, ``mysql://`` and ``mariadb://`` PyMySQL, unless the
URL names a driver: ``postgresql+psycopg2://``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import eventstore_core
from eventstore_core.config import Option
from eventstore_core.exceptions import ConfigurationError
from eventstore_core.hookspecs import BackendRegistrar
from eventstore_core.urls import StoreURL

if TYPE_CHECKING:
    from .strategy import SQLAlchemyActiveRecordStrategy

#: The same as ``datastore.DEFAULT_URI`` (a test checks), kept here so that declaring the
#: option's default imports no SQLAlchemy.
DEFAULT_URI = "sqlite:///eventstore.sqlite3"

#: ``record=`` choices (see ``_record``): ``timestamp`` positions items by ``Decimal``
#: timestamps (map events with ``position_attr_name="timestamp"``); ``snapshot`` is the table
#: of a snapshot store.
RECORD_NAMES = ("integer", "stored_event", "timestamp", "snapshot")

OPTIONS = (
    Option("uri", "SQLAlchemy database URL", default=DEFAULT_URI),
    Option("record", "which table and item type: " + ", ".join(RECORD_NAMES), default="integer"),
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
    Option(
        "server_timeout",
        "seconds a call waits, at most, for a PostgreSQL or MySQL/MariaDB server that stops "
        "answering",
        default=60.0,
        parse=float,
    ),
)

#: URL scheme -> the SQLAlchemy dialect+driver it means when the URL names no driver.
URL_SCHEMES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


def create_strategy(
    uri: str = DEFAULT_URI,
    record: str = "integer",
    sqlite_synchronous: str = "FULL",
    sqlite_busy_timeout: float = 60.0,
    server_timeout: float = 60.0,
) -> SQLAlchemyActiveRecordStrategy[Any]:
    """A ready strategy: connected lazily, its table created if it did not exist."""
    if record not in RECORD_NAMES:
        raise ConfigurationError(
            f"record={record!r} is not one of {', '.join(RECORD_NAMES)} "
            f"(option record= or environment variable EVENTSTORE_RECORD)"
        )
    from .datastore import SQLAlchemySettings
    from .strategy import SQLAlchemyActiveRecordStrategy

    sequenced_item_class, record_class = _record(record)
    settings = SQLAlchemySettings(
        uri,
        sqlite_synchronous=sqlite_synchronous,
        sqlite_busy_timeout=float(sqlite_busy_timeout),
        server_timeout=float(server_timeout),
    )
    return SQLAlchemyActiveRecordStrategy(
        sequenced_item_class=sequenced_item_class,
        active_record_class=record_class,
        settings=settings,
    )


def _record(record: str) -> tuple[type, type]:
    """The sequenced item class and the record class (table) of a ``record=`` choice."""
    from eventstore_core.sequenceditem import SequencedItem, StoredEvent

    from . import records

    return {
        "integer": (SequencedItem, records.IntegerSequencedItemRecord),
        "stored_event": (StoredEvent, records.StoredEventRecord),
        "timestamp": (SequencedItem, records.TimestampSequencedItemRecord),
        "snapshot": (SequencedItem, records.SnapshotRecord),
    }[record]


def options_from_url(url: StoreURL) -> dict[str, Any]:
    """``uri=`` from a configuration string: the URL itself, up to its query (which holds
    options), with the default driver of its scheme when it names none."""
    dialect = f"{url.scheme}+{url.driver}" if url.driver else URL_SCHEMES[url.scheme]
    rest = url.without_query().partition(":")[2]
    return {"uri": f"{dialect}:{rest}"}


@eventstore_core.hookimpl
def register_backends(register: BackendRegistrar) -> None:
    register(
        "sqlalchemy",
        create_strategy,
        options=OPTIONS,
        url_schemes=tuple(URL_SCHEMES),
        options_from_url=options_from_url,
    )
