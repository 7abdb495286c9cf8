"""``CassandraDatastore``: connect to a cluster, create and drop the keyspace's tables.

As in the user's document, ``setup_connection()`` also makes the new connection this module's
default, which ``CassandraActiveRecordStrategy`` uses when it is given no ``session``;
``drop_connection()`` closes it and clears the default again.

Statements name tables with their keyspace (``"eventstore"."stored_events"``), so the session
is not bound to a keyspace and works before ``setup_tables()`` created it.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import (
    DCAwareRoundRobinPolicy,
    ExponentialReconnectionPolicy,
    TokenAwarePolicy,
)
from cassandra.query import tuple_factory
from eventstore_core.exceptions import DatastoreError

from .errors import WriteSafeRetryPolicy, translate
from .layout import Layout, read_layout, size_for
from .records import (
    FEED_COLUMN,
    FEED_INDEX_SUFFIX,
    FEED_SUFFIX,
    CassandraRecord,
    qualified,
    quote,
    record_description,
)
from .settings import CassandraSettings, consistency_value

__all__ = ["CassandraConnection", "CassandraDatastore", "CassandraSettings", "get_default"]

log = logging.getLogger(__name__)


class _QuietProtocolNegotiation(logging.Filter):
    """Drops the driver's warnings about stepping down from DataStax's own protocol versions.

    The driver first offers DSE protocol versions (0x41/0x42), which an Apache Cassandra never
    speaks, and warns on every connect when it steps down to v5. That is expected, not news.
    A step down below v5 (an old server) is still logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Downgrading core protocol version") and record.args:
            args = record.args if isinstance(record.args, tuple) else ()
            return not (len(args) >= 2 and isinstance(args[0], int) and args[0] >= 0x41)
        return True


logging.getLogger("cassandra.cluster").addFilter(_QuietProtocolNegotiation())


@dataclass(frozen=True)
class CassandraConnection:
    """A session together with the settings it was made from (keyspace, consistency)."""

    session: Session
    settings: CassandraSettings


_default: CassandraConnection | None = None
_default_lock = threading.Lock()


def get_default() -> CassandraConnection | None:
    """The connection made by the latest ``setup_connection()`` (None after drop/close)."""
    return _default


def _set_default(connection: CassandraConnection | None) -> None:
    global _default
    with _default_lock:
        _default = connection


def execution_profile(settings: CassandraSettings) -> ExecutionProfile:
    """Defaults for every request: consistency, timeout, token-aware routing, tuple rows."""
    return ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=settings.local_dc)),
        retry_policy=WriteSafeRetryPolicy(),
        consistency_level=consistency_value(settings.consistency_level, "consistency_level"),
        serial_consistency_level=consistency_value(
            settings.serial_consistency_level, "serial_consistency_level"
        ),
        request_timeout=settings.request_timeout,
        row_factory=tuple_factory,
    )


def make_cluster(settings: CassandraSettings) -> Cluster:
    """A driver ``Cluster`` for ``settings`` (not yet connected)."""
    options: dict[str, Any] = {
        "contact_points": list(settings.hosts),
        "port": settings.port,
        "execution_profiles": {EXEC_PROFILE_DEFAULT: execution_profile(settings)},
        "connect_timeout": settings.connect_timeout,
        "control_connection_timeout": settings.connect_timeout,
        "reconnection_policy": ExponentialReconnectionPolicy(
            base_delay=min(0.5, settings.reconnect_max_delay),
            max_delay=settings.reconnect_max_delay,
        ),
        # Without TCP_NODELAY, Nagle's algorithm and the server's delayed ACK hold every
        # request larger than a segment (a batch of ~30 items) for 40 ms.
        "sockopts": [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    }
    if settings.protocol_version is not None:
        options["protocol_version"] = settings.protocol_version
    if settings.username is not None:
        options["auth_provider"] = PlainTextAuthProvider(
            username=settings.username, password=settings.password or ""
        )
    options.update(settings.extra_cluster_options)
    return Cluster(**options)


def connect(settings: CassandraSettings) -> CassandraConnection:
    """Connect to the cluster, or raise ``DatastoreError`` naming every host and port.

    With nothing listening this fails at once; with a host that drops packets it fails
    after ``settings.connect_timeout`` seconds per contact point.
    """
    cluster = make_cluster(settings)
    try:
        session = cluster.connect()
    except Exception as error:
        cluster.shutdown()
        raise translate(error, "connecting to Cassandra", settings.endpoints) from error
    return CassandraConnection(session=session, settings=settings)


def close(connection: CassandraConnection) -> None:
    """Shut down the connection's cluster (all its sessions and threads)."""
    connection.session.cluster.shutdown()
    if _default is connection:
        _set_default(None)


class CassandraDatastore:
    """Sets up the connection and the tables of ``tables`` (record classes) in the keyspace."""

    def __init__(
        self,
        settings: CassandraSettings | None = None,
        tables: Iterable[type[CassandraRecord]] = (),
    ) -> None:
        self.settings = settings if settings is not None else CassandraSettings()
        self.tables = tuple(record_description(table) for table in tables)
        self.connection: CassandraConnection | None = None

    @property
    def session(self) -> Session:
        """The driver session (after ``setup_connection()``)."""
        return self._connected().session

    def setup_connection(self, make_default: bool = True) -> None:
        """Connect (if not connected yet) and, by default, make this the module's default."""
        if self.connection is None:
            self.connection = connect(self.settings)
        if make_default:
            _set_default(self.connection)

    def setup_tables(self) -> None:
        """Create the keyspace and every table of ``tables`` if they do not exist."""
        settings = self.settings
        replication = ", ".join(
            f"'{key}': {value!r}" for key, value in settings.replication().items()
        )
        self._execute(
            f"CREATE KEYSPACE IF NOT EXISTS {quote(settings.keyspace)} "
            f"WITH replication = {{{replication}}}",
            f"creating keyspace {settings.keyspace!r}",
        )
        for table in self.tables:
            what = f"creating table {settings.keyspace}.{table.table_name}"
            size = size_for(table, settings.partition_size, settings.partition_seconds)
            self._execute(table.create_table_cql(settings.keyspace, size), what)
            layout = self.layout(table)
            if not layout.split:
                self._add_feed_column(table)
            for cql in table.create_feed_cql(settings.keyspace):
                self._execute(cql, what + "'s feed")

    def layout(self, table: type[CassandraRecord]) -> Layout:
        """How ``table`` is split, as its schema says (a table made earlier keeps its own)."""
        settings = self.settings
        return read_layout(self.session, settings.keyspace, table, settings.endpoints,
                           max(settings.request_timeout, 60.0))

    def _add_feed_column(self, table: type[CassandraRecord]) -> None:
        """A table made before the feed existed gets its column (its rows keep reading)."""
        keyspace = self.settings.keyspace
        try:
            rows = self.session.execute(
                "SELECT column_name FROM system_schema.columns WHERE keyspace_name = %s "
                "AND table_name = %s", (keyspace, table.table_name),
                timeout=max(self.settings.request_timeout, 60.0),
            )
        except Exception as error:
            raise translate(error, f"reading the columns of {keyspace}.{table.table_name}",
                            self.settings.endpoints) from error
        if FEED_COLUMN not in {row[0] for row in rows}:
            self._execute(
                f"ALTER TABLE {qualified(keyspace, table.table_name)} "
                f"ADD {quote(FEED_COLUMN)} bigint",
                f"adding column {FEED_COLUMN} to {keyspace}.{table.table_name}",
            )

    def drop_tables(self) -> None:
        """Drop every table of ``tables`` (their data is gone); the keyspace stays."""
        for table in self.tables:
            what = f"dropping table {self.settings.keyspace}.{table.table_name}"
            self._execute(table.drop_table_cql(self.settings.keyspace), what)
            for cql in table.drop_feed_cql(self.settings.keyspace):
                self._execute(cql, what + "'s feed")

    def truncate_tables(self) -> None:
        """Delete every row of every table of ``tables`` (for tests)."""
        keyspace = self.settings.keyspace
        for table in self.tables:
            for name in (table.table_name, table.table_name + FEED_SUFFIX,
                         table.table_name + FEED_INDEX_SUFFIX):
                self._execute(f"TRUNCATE {qualified(keyspace, name)}",
                              f"truncating table {keyspace}.{name}")

    def drop_connection(self) -> None:
        """Close the connection; clears the module's default if it was this one."""
        if self.connection is not None:
            close(self.connection)
            self.connection = None

    def _connected(self) -> CassandraConnection:
        if self.connection is None:
            raise DatastoreError(
                "CassandraDatastore is not connected: call setup_connection() first"
            )
        return self.connection

    def _execute(self, cql: str, what: str) -> None:
        """Run one schema statement; schema changes wait for the cluster to agree."""
        session = self._connected().session
        try:
            session.execute(cql, timeout=max(self.settings.request_timeout, 60.0))
        except Exception as error:
            raise translate(error, what, self.settings.endpoints) from error
