"""Registers the ``cassandra`` backend with eventstore (entry point group ``eventstore``).

``EventStore.from_config("cassandra", hosts=["10.0.0.1"], keyspace="shop")`` ends here. Each
option also comes from ``EVENTSTORE_<NAME>``, and when neither is given, from the
``CASSANDRA_*`` variable that ``CassandraSettings`` reads (``CASSANDRA_HOSTS``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import eventstore_core
from eventstore_core.config import Option, comma_list
from eventstore_core.exceptions import ConfigurationError
from eventstore_core.sequenceditem import SequencedItem

from .records import (
    IntegerSequencedItemRecord,
    SnapshotRecord,
    StoredEventRecord,
    TimestampSequencedItemRecord,
)
from .settings import CassandraSettings, parse_hosts
from .strategy import CassandraActiveRecordStrategy

#: ``record=`` choices: the table for each. Items are ``SequencedItem``s whatever the table
#: (columns are bound by field order, not name), as ``from_config``'s mapper makes them.
RECORDS: dict[str, type] = {
    "integer": IntegerSequencedItemRecord,
    "stored_event": StoredEventRecord,
    "timestamp": TimestampSequencedItemRecord,
    "snapshot": SnapshotRecord,
}

_FROM_SETTINGS = "default: $CASSANDRA_{} or {}"

OPTIONS = (
    Option("hosts", "contact points, a list or comma-separated text ("
           + _FROM_SETTINGS.format("HOSTS", "127.0.0.1") + ")", default=None, parse=comma_list),
    Option("port", "CQL port (" + _FROM_SETTINGS.format("PORT", 9042) + ")",
           default=None, parse=int),
    Option("keyspace", "keyspace, created if missing ("
           + _FROM_SETTINGS.format("KEYSPACE", "eventstore") + ")", default=None),
    Option("record", "which table and item type: " + " or ".join(RECORDS), default="integer"),
    Option("replication_factor", "replication factor of a new keyspace ("
           + _FROM_SETTINGS.format("REPLICATION_FACTOR", 1) + ")", default=None, parse=int),
    Option("replication_strategy", "SimpleStrategy or NetworkTopologyStrategy ("
           + _FROM_SETTINGS.format("REPLICATION_STRATEGY", "SimpleStrategy") + ")",
           default=None),
    Option("consistency_level", "reads and LWT commits ("
           + _FROM_SETTINGS.format("CONSISTENCY_LEVEL", "LOCAL_QUORUM") + ")", default=None),
    Option("serial_consistency_level", "SERIAL or LOCAL_SERIAL ("
           + _FROM_SETTINGS.format("SERIAL_CONSISTENCY_LEVEL", "LOCAL_SERIAL") + ")",
           default=None),
    Option("username", "user name for PasswordAuthenticator ("
           + _FROM_SETTINGS.format("USERNAME", "none") + ")", default=None),
    Option("password", "password (" + _FROM_SETTINGS.format("PASSWORD", "none") + ")",
           default=None),
    Option("connect_timeout", "seconds to wait for a node when connecting ("
           + _FROM_SETTINGS.format("CONNECT_TIMEOUT", 5.0) + ")", default=None, parse=float),
    Option("request_timeout", "seconds to wait for one request ("
           + _FROM_SETTINGS.format("REQUEST_TIMEOUT", 12.0) + ")", default=None, parse=float),
)


def create_strategy(record: str = "integer", **options: Any) -> CassandraActiveRecordStrategy[Any]:
    """A ready strategy: connected, its keyspace and table created if they did not exist."""
    if record not in RECORDS:
        raise ConfigurationError(
            f"record={record!r} is not one of {', '.join(RECORDS)} "
            f"(option record= or environment variable EVENTSTORE_RECORD)"
        )
    given = {name: value for name, value in options.items() if value is not None}
    if "hosts" in given:
        try:
            given["hosts"] = parse_hosts(given["hosts"])
        except ValueError as error:
            raise ConfigurationError(f"option hosts={options['hosts']!r}: {error}") from None
    try:
        settings = CassandraSettings(**given)
    except TypeError as error:
        raise ConfigurationError(f"backend 'cassandra': {error}") from None
    return CassandraActiveRecordStrategy(
        active_record_class=RECORDS[record], sequenced_item_class=SequencedItem, settings=settings
    )


@eventstore_core.hookimpl
def register_backends(register: Callable[..., None]) -> None:
    register("cassandra", create_strategy, options=OPTIONS, distribution="eventstore-cassandra")
