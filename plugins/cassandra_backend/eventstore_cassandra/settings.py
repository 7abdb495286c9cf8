"""``CassandraSettings``: where the cluster is and how to talk to it.

Every field has a default read from a ``CASSANDRA_*`` environment variable when the settings
object is made (so ``CassandraSettings()`` follows the environment, as the user's document
expects), and a fixed default after that: one node on 127.0.0.1:9042, keyspace ``eventstore``
with replication factor 1.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from cassandra import ConsistencyLevel
from eventstore_core.config import boolean
from eventstore_core.exceptions import ConfigurationError

V = TypeVar("V")

DEFAULT_HOSTS: tuple[str, ...] = ("127.0.0.1",)
DEFAULT_PORT = 9042
DEFAULT_KEYSPACE = "eventstore"
DEFAULT_PARTITION_SIZE = 50_000
DEFAULT_PARTITION_SECONDS = Decimal(86_400)
REPLICATION_STRATEGIES = ("SimpleStrategy", "NetworkTopologyStrategy")
SERIAL_LEVELS = ("SERIAL", "LOCAL_SERIAL")
_KEYSPACE_NAME = re.compile(r"^[A-Za-z0-9_]{1,48}$")

#: Each field, the environment variable that gives its default, and that variable's parser.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {}


def _from_env(
    name: str, env: str, parse: Callable[[str], V], default: V, secret: bool = False
) -> Any:
    """A dataclass field whose default is ``$env`` (parsed) when set, else ``default``."""
    ENVIRONMENT[name] = (env, parse)

    def make() -> V:
        raw = os.environ.get(env, "")
        if raw.strip() == "":
            return default
        try:
            return parse(raw)
        except (TypeError, ValueError, InvalidOperation) as error:
            shown = "(hidden)" if secret else repr(raw)
            raise ConfigurationError(
                f"environment variable {env}={shown} is not a valid value for "
                f"CassandraSettings.{name}"
            ) from (None if secret else error)

    # A secret is left out of the settings' repr (and so of every message that shows it).
    return field(default_factory=make, repr=not secret)


def parse_hosts(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"a, b"`` or ``["a", "b"]`` -> ``("a", "b")``; at least one host, each a text."""
    if isinstance(text, str):
        parts: list[Any] = text.split(",")
    elif isinstance(text, Sequence | frozenset | set):
        parts = list(text)
    else:
        raise ValueError(f"{text!r} is not a host name or a list of them")
    for part in parts:
        if not isinstance(part, str):
            raise ValueError(f"host {part!r} is a {type(part).__name__}, not a host name (text)")
    hosts = tuple(part.strip() for part in parts if part.strip())
    if not hosts:
        raise ValueError("no host given")
    return hosts


def _hosts_from_env(text: str) -> tuple[str, ...]:
    return parse_hosts(text)


def _optional_int(text: str) -> int | None:
    return None if text.strip().lower() in ("", "none") else int(text)


@dataclass
class CassandraSettings:
    """Connection and schema settings of the Cassandra backend.

    ``hosts`` are contact points (the driver discovers the rest of the cluster). Consistency
    levels are names of ``cassandra.ConsistencyLevel``: ``consistency_level`` is used for
    reads and for the commit of conditional writes, ``serial_consistency_level`` (``SERIAL``
    or ``LOCAL_SERIAL``) for their Paxos phase. ``connect_timeout`` bounds how long a missing
    server can make ``setup_connection()`` wait; ``request_timeout`` bounds one request.
    """

    hosts: tuple[str, ...] = _from_env("hosts", "CASSANDRA_HOSTS", _hosts_from_env, DEFAULT_HOSTS)
    port: int = _from_env("port", "CASSANDRA_PORT", int, DEFAULT_PORT)
    keyspace: str = _from_env("keyspace", "CASSANDRA_KEYSPACE", str, DEFAULT_KEYSPACE)
    replication_strategy: str = _from_env(
        "replication_strategy", "CASSANDRA_REPLICATION_STRATEGY", str, "SimpleStrategy"
    )
    replication_factor: int = _from_env(
        "replication_factor", "CASSANDRA_REPLICATION_FACTOR", int, 1
    )
    consistency_level: str = _from_env(
        "consistency_level", "CASSANDRA_CONSISTENCY_LEVEL", str, "LOCAL_QUORUM"
    )
    serial_consistency_level: str = _from_env(
        "serial_consistency_level", "CASSANDRA_SERIAL_CONSISTENCY_LEVEL", str, "LOCAL_SERIAL"
    )
    username: str | None = _from_env("username", "CASSANDRA_USERNAME", str, None)
    password: str | None = _from_env("password", "CASSANDRA_PASSWORD", str, None, secret=True)
    local_dc: str | None = _from_env("local_dc", "CASSANDRA_LOCAL_DC", str, None)
    protocol_version: int | None = _from_env(
        "protocol_version", "CASSANDRA_PROTOCOL_VERSION", _optional_int, None
    )
    connect_timeout: float = _from_env(
        "connect_timeout", "CASSANDRA_CONNECT_TIMEOUT", float, 5.0
    )
    request_timeout: float = _from_env(
        "request_timeout", "CASSANDRA_REQUEST_TIMEOUT", float, 12.0
    )
    #: Longest wait between two attempts to reconnect to a node that went down.
    reconnect_max_delay: float = _from_env(
        "reconnect_max_delay", "CASSANDRA_RECONNECT_MAX_DELAY", float, 5.0
    )
    #: Rows per page when a read is longer than one page (the driver pages on the server).
    fetch_size: int = _from_env("fetch_size", "CASSANDRA_FETCH_SIZE", int, 5000)
    #: Keep the global feed (``read_all``, catch-up subscriptions; see ``feed``). Off: an
    #: append is one request fewer, and the store has no global order.
    feed: bool = _from_env("feed", "CASSANDRA_FEED", boolean, True)
    #: Seconds after an append before the feed shows it: readers read only entries older than
    #: this, and decide those whose writer did not finish (see ``feed``).
    feed_delay: float = _from_env("feed_delay", "CASSANDRA_FEED_DELAY", float, 5.0)
    #: Seconds a writer's feed entry and event write may take and still count as on time; a
    #: slower writer confirms its entry (one more LWT). ``feed_delay - feed_write_window`` is
    #: the clock difference between writers and readers that the feed tolerates.
    feed_write_window: float = _from_env(
        "feed_write_window", "CASSANDRA_FEED_WRITE_WINDOW", float, 1.0
    )
    #: Positions per Cassandra partition of a new table with integer positions (a sequence
    #: is split into partitions of this many positions; see ``records``). Fixed when the
    #: table is made (kept in its comment); 0: one partition per sequence, as before.
    partition_size: int = _from_env(
        "partition_size", "CASSANDRA_PARTITION_SIZE", int, DEFAULT_PARTITION_SIZE
    )
    #: The same for a new table with timestamp positions: seconds per partition.
    partition_seconds: Decimal = _from_env(
        "partition_seconds", "CASSANDRA_PARTITION_SECONDS", Decimal, DEFAULT_PARTITION_SECONDS
    )
    # The driver's own options (a repr of them could hold credentials: not shown).
    extra_cluster_options: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        try:
            self.hosts = parse_hosts(self.hosts)
        except ValueError as error:
            raise ConfigurationError(f"CassandraSettings.hosts: {error}") from None
        self.port = _checked_int("port", self.port, 1, 65535)
        self.replication_factor = _checked_int("replication_factor", self.replication_factor, 1)
        self.fetch_size = _checked_int("fetch_size", self.fetch_size, 1)
        self.partition_size = _checked_int("partition_size", self.partition_size, 0)
        self.partition_seconds = _checked_seconds(self.partition_seconds)
        if self.protocol_version is not None:
            self.protocol_version = _checked_int("protocol_version", self.protocol_version, 1)
        for name in ("replication_strategy", "consistency_level", "serial_consistency_level"):
            if not isinstance(getattr(self, name), str):
                raise ConfigurationError(
                    f"CassandraSettings.{name}={getattr(self, name)!r} must be a name (text)"
                )
        for name in ("username", "password", "local_dc"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                shown = "(hidden)" if name == "password" else repr(value)
                raise ConfigurationError(
                    f"CassandraSettings.{name}={shown} must be text or None, not "
                    f"{type(value).__name__}"
                )
        if not isinstance(self.extra_cluster_options, Mapping):
            raise ConfigurationError(
                "CassandraSettings.extra_cluster_options must be a mapping of driver options"
            )
        if not isinstance(self.keyspace, str) or not _KEYSPACE_NAME.match(self.keyspace):
            raise ConfigurationError(
                f"CassandraSettings.keyspace={self.keyspace!r} is not a valid keyspace name "
                f"(1-48 letters, digits or underscores)"
            )
        if self.replication_strategy not in REPLICATION_STRATEGIES:
            raise ConfigurationError(
                f"CassandraSettings.replication_strategy={self.replication_strategy!r}: use "
                + " or ".join(REPLICATION_STRATEGIES)
            )
        self.consistency_level = self.consistency_level.upper()
        self.serial_consistency_level = self.serial_consistency_level.upper()
        consistency_value(self.consistency_level, "consistency_level")
        if self.serial_consistency_level not in SERIAL_LEVELS:
            raise ConfigurationError(
                f"CassandraSettings.serial_consistency_level={self.serial_consistency_level!r}: "
                f"use " + " or ".join(SERIAL_LEVELS)
            )
        for name in ("connect_timeout", "request_timeout", "reconnect_max_delay", "feed_delay",
                     "feed_write_window"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(
                    f"CassandraSettings.{name}={value!r} must be a positive number of seconds"
                )

        if not isinstance(self.feed, bool):
            raise ConfigurationError(f"CassandraSettings.feed={self.feed!r} must be True or False")
        if self.feed_delay <= self.feed_write_window:
            raise ConfigurationError(
                f"CassandraSettings.feed_delay={self.feed_delay!r} must be longer than "
                f"feed_write_window={self.feed_write_window!r} (their difference is the clock "
                f"skew between writers and readers that the feed tolerates)"
            )

    @property
    def endpoints(self) -> str:
        """``host:port`` of every contact point, for error messages."""
        return ", ".join(f"{host}:{self.port}" for host in self.hosts)

    def replication(self) -> dict[str, Any]:
        """The keyspace's replication map."""
        return {"class": self.replication_strategy, "replication_factor": self.replication_factor}


def consistency_value(name: str, option: str) -> int:
    """The driver's value of a consistency level name (``LOCAL_QUORUM`` -> 6)."""
    try:
        return int(ConsistencyLevel.name_to_value[name.upper()])
    except (KeyError, AttributeError):
        known = ", ".join(sorted(ConsistencyLevel.name_to_value))
        raise ConfigurationError(
            f"CassandraSettings.{option}={name!r} is not a consistency level; use one of {known}"
        ) from None


def _checked_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    # A text is refused too (``port="9042"``): the environment's texts are parsed before.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(
            f"CassandraSettings.{name}={value!r} is not an integer ({type(value).__name__})"
        )
    number = int(value)
    if number < low or (high is not None and number > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ConfigurationError(f"CassandraSettings.{name}={value!r} must be {bounds}")
    return number


def _checked_seconds(value: Any) -> Decimal:
    """``partition_seconds``: 0 (no split) or a positive number of seconds, as a Decimal."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ConfigurationError(
            f"CassandraSettings.partition_seconds={value!r} is not a number of seconds "
            f"({type(value).__name__})"
        )
    seconds = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not seconds.is_finite() or seconds < 0:
        raise ConfigurationError(
            f"CassandraSettings.partition_seconds={value!r} must be 0 (no split) or a "
            f"positive number of seconds"
        )
    return seconds
