"""Registers the ``cassandra`` backend with eventstore (entry point group ``eventstore``).

``EventStore.from_config("cassandra", hosts=["10.0.0.1"], keyspace="shop")`` ends here, and
``AsyncEventStore.from_config(...)`` with the same options (``create_async_strategy``). Each
option also comes from ``EVENTSTORE_<NAME>``, and when neither is given, from the
``CASSANDRA_*`` variable that ``CassandraSettings`` reads (``CASSANDRA_HOSTS``, ...). So does
the configuration string ``from_config("cassandra://user:password@h1,h2,h3:9042/shop")``.

This module only declares names and options: cassandra-driver and the backend's modules are
imported when the factory runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import eventstore_core
from eventstore_core.config import Option, boolean, comma_list
from eventstore_core.exceptions import ConfigurationError
from eventstore_core.hookspecs import BackendRegistrar
from eventstore_core.urls import StoreURL

if TYPE_CHECKING:
    from .aio import AsyncCassandraActiveRecordStrategy
    from .strategy import CassandraActiveRecordStrategy, CassandraStrategyBase

#: ``record=`` choices (see ``_record_class``). Items are ``SequencedItem``s whatever the
#: table (columns are bound by field order, not name), as ``from_config``'s mapper makes them.
RECORD_NAMES = ("integer", "stored_event", "timestamp", "snapshot")

_FROM_SETTINGS = "default: $CASSANDRA_{} or {}"


def _decimal(text: str) -> Any:
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None


OPTIONS = (
    Option("hosts", "contact points, a list or comma-separated text ("
           + _FROM_SETTINGS.format("HOSTS", "127.0.0.1") + ")", default=None, parse=comma_list),
    Option("port", "CQL port (" + _FROM_SETTINGS.format("PORT", 9042) + ")",
           default=None, parse=int),
    Option("keyspace", "keyspace, created if missing ("
           + _FROM_SETTINGS.format("KEYSPACE", "eventstore") + ")", default=None),
    Option("record", "which table and item type: " + " or ".join(RECORD_NAMES), default="integer"),
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
    Option("feed", "keep the global feed (read_all, catch-up subscriptions): true or false ("
           + _FROM_SETTINGS.format("FEED", "true") + ")", default=None, parse=boolean),
    Option("feed_delay", "seconds after an append before the feed shows it ("
           + _FROM_SETTINGS.format("FEED_DELAY", 5.0) + ")", default=None, parse=float),
    Option("feed_write_window", "seconds a writer's feed entry and rows may take and still "
           "count as on time (" + _FROM_SETTINGS.format("FEED_WRITE_WINDOW", 1.0) + ")",
           default=None, parse=float),
    Option("partition_size", "positions per Cassandra partition of a new table (0: one "
           "partition per sequence; " + _FROM_SETTINGS.format("PARTITION_SIZE", 50_000) + ")",
           default=None, parse=int),
    Option("partition_seconds", "seconds per partition of a new timestamp table ("
           + _FROM_SETTINGS.format("PARTITION_SECONDS", 86_400) + ")", default=None,
           parse=_decimal),
)


def create_strategy(
    record: str = "integer",
    hosts: Any = None,
    port: int | None = None,
    keyspace: str | None = None,
    replication_factor: int | None = None,
    replication_strategy: str | None = None,
    consistency_level: str | None = None,
    serial_consistency_level: str | None = None,
    username: str | None = None,
    password: str | None = None,
    connect_timeout: float | None = None,
    request_timeout: float | None = None,
    feed: bool | None = None,
    feed_delay: float | None = None,
    feed_write_window: float | None = None,
    partition_size: int | None = None,
    partition_seconds: Any = None,
) -> CassandraActiveRecordStrategy[Any]:
    """A ready strategy: connected, its keyspace and table created if they did not exist.

    An option left None takes its value from ``CassandraSettings`` (``CASSANDRA_*``).
    """
    from .strategy import CassandraActiveRecordStrategy

    return _make(CassandraActiveRecordStrategy, record, locals())  # type: ignore[return-value]


def create_async_strategy(
    record: str = "integer",
    hosts: Any = None,
    port: int | None = None,
    keyspace: str | None = None,
    replication_factor: int | None = None,
    replication_strategy: str | None = None,
    consistency_level: str | None = None,
    serial_consistency_level: str | None = None,
    username: str | None = None,
    password: str | None = None,
    connect_timeout: float | None = None,
    request_timeout: float | None = None,
    feed: bool | None = None,
    feed_delay: float | None = None,
    feed_write_window: float | None = None,
    partition_size: int | None = None,
    partition_seconds: Any = None,
) -> AsyncCassandraActiveRecordStrategy[Any]:
    """``create_strategy``'s async twin (same options): for ``AsyncEventStore``."""
    from .aio import AsyncCassandraActiveRecordStrategy

    return _make(AsyncCassandraActiveRecordStrategy, record, locals())  # type: ignore[return-value]


def _make(strategy_class: type[CassandraStrategyBase[Any]], record: str,
          arguments: dict[str, Any]) -> CassandraStrategyBase[Any]:
    """A strategy of ``strategy_class`` from the factory's ``arguments`` (its options)."""
    if record not in RECORD_NAMES:
        raise ConfigurationError(
            f"record={record!r} is not one of {', '.join(RECORD_NAMES)} "
            f"(option record= or environment variable EVENTSTORE_RECORD)"
        )
    from eventstore_core.sequenceditem import SequencedItem

    from .settings import CassandraSettings, parse_hosts

    given = {option.name: arguments[option.name] for option in OPTIONS
             if option.name != "record" and arguments[option.name] is not None}
    if "hosts" in given:
        try:
            given["hosts"] = parse_hosts(given["hosts"])
        except (TypeError, ValueError) as error:
            raise ConfigurationError(f"option hosts={arguments['hosts']!r}: {error}") from None
    try:
        settings = CassandraSettings(**given)
    except TypeError as error:
        raise ConfigurationError(f"backend 'cassandra': {error}") from None
    return strategy_class(
        active_record_class=_record_class(record), sequenced_item_class=SequencedItem,
        settings=settings,
    )


def _record_class(record: str) -> type:
    from . import records

    return {
        "integer": records.IntegerSequencedItemRecord,
        "stored_event": records.StoredEventRecord,
        "timestamp": records.TimestampSequencedItemRecord,
        "snapshot": records.SnapshotRecord,
    }[record]


def options_from_url(url: StoreURL) -> dict[str, Any]:
    """``cassandra://[user[:password]@]host[:port][,host...]/keyspace``."""
    if url.driver:
        raise ConfigurationError(
            f"configuration string {url.redacted!r}: cassandra:// takes no +driver"
        )
    if not url.hosts:
        raise ConfigurationError(
            f"configuration string {url.redacted!r} names no host: write "
            f"cassandra://host[:port][,host...]/keyspace"
        )
    ports = {host.port for host in url.hosts if host.port is not None}
    if len(ports) > 1:
        raise ConfigurationError(
            f"configuration string {url.redacted!r}: the hosts have different ports "
            f"({', '.join(map(str, sorted(ports)))}); the driver uses one port for all"
        )
    if "/" in url.path:
        raise ConfigurationError(
            f"configuration string {url.redacted!r}: the path must be one keyspace name"
        )
    options: dict[str, Any] = {"hosts": [host.name for host in url.hosts]}
    if ports:
        options["port"] = ports.pop()
    if url.path:
        options["keyspace"] = url.path
    if url.username is not None:
        options["username"] = url.username
    if url.password is not None:
        options["password"] = url.password
    return options


@eventstore_core.hookimpl
def register_backends(register: BackendRegistrar) -> None:
    register(
        "cassandra",
        create_strategy,
        options=OPTIONS,
        url_schemes=("cassandra",),
        options_from_url=options_from_url,
        async_factory=create_async_strategy,
    )
