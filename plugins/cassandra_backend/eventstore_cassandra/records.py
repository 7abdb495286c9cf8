"""Active record classes: which table holds a kind of sequenced item, and its columns.

A record class here is a plain description, not an ORM model: the strategy writes and reads
through prepared statements built from it. A sequence is split into Cassandra partitions of
a fixed size (``partition_nr = floor(position / size)``; ``size`` positions, or seconds for
timestamp positions, fixed when the table is made and kept in its comment, see ``layout``),
the position as clustering key, so each partition is a contiguous, ordered, bounded slice on
its replicas. A sequence's partition 0 also holds, in a static column, the set of its other
partitions (``later_partitions``), so a read of partition 0 learns them with its rows. A table made
before the split (no ``partition_nr`` column) keeps one partition per sequence and keeps
working. How a list that crosses a partition boundary is written atomically: ``crossing``.

Users declare their own the same way::

    class MyRecord(CassandraRecord):
        table_name = "my_items"
        column_names = ("aggregate_id", "version", "kind", "payload")
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, ClassVar

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,47}$")
#: The column every record table has besides its four: which feed entry announced the row
#: (see ``feed``). Not one of the four names a record class may use.
FEED_COLUMN = "feed_id"
#: The columns of a split table (see ``layout`` and ``crossing``), also the backend's own.
PARTITION_COLUMN = "partition_nr"
APPEND_COLUMNS = ("append_id", "append_head", "append_state")
#: The static column of partition 0 listing a sequence's other partitions.
LATER_COLUMN = "later_partitions"
RESERVED_COLUMNS = (FEED_COLUMN, PARTITION_COLUMN, *APPEND_COLUMNS, LATER_COLUMN)
#: How a split table's comment gives its partition size (read back by ``layout``).
COMMENT_PREFIX = "eventstore partition_size="
#: Suffixes of the feed's two tables; a table name leaves room for them (48 characters).
FEED_SUFFIX, FEED_INDEX_SUFFIX = "_feed", "_feed_index"
_LONGEST_TABLE = 48 - len(FEED_INDEX_SUFFIX)


class CassandraRecord:
    """Base of record classes: a table of (sequence id, position, topic, data) columns.

    ``column_names`` are in the order of the sequenced item's fields; their CQL types are
    ``uuid``, ``position_cql_type``, ``text``, ``text``. Subclasses set ``table_name`` and
    ``column_names`` (and, for other positions, ``position_cql_type``/``position_type``).
    """

    table_name: ClassVar[str] = ""
    column_names: ClassVar[tuple[str, str, str, str]] = ("sequence_id", "position", "topic", "data")
    sequence_id_cql_type: ClassVar[str] = "uuid"
    position_cql_type: ClassVar[str] = "bigint"
    #: The Python type of positions (read by the core to check items before writing).
    position_type: ClassVar[type | tuple[type, ...]] = int

    def __init__(self) -> None:  # pragma: no cover - descriptions are not instantiated
        raise TypeError(f"{type(self).__name__} describes a table; it is not instantiated")

    @classmethod
    def check(cls) -> None:
        """Refuse a description that would make invalid CQL (before any statement is built)."""
        names = (cls.table_name, *cls.column_names)
        if len(cls.column_names) != 4 or len(set(cls.column_names)) != 4:
            raise TypeError(f"{cls.__name__}.column_names must be four distinct names")
        for reserved in RESERVED_COLUMNS:
            if reserved in cls.column_names:
                raise TypeError(
                    f"{cls.__name__}: the column name {reserved!r} is the backend's own"
                )
        if isinstance(cls.table_name, str) and len(cls.table_name) > _LONGEST_TABLE:
            raise TypeError(
                f"{cls.__name__}.table_name {cls.table_name!r} is longer than {_LONGEST_TABLE} "
                f"characters (its feed table {cls.table_name + FEED_INDEX_SUFFIX!r} must fit "
                f"Cassandra's 48)"
            )
        for name in names:
            if not isinstance(name, str) or not _IDENTIFIER.match(name):
                raise TypeError(
                    f"{cls.__name__}: {name!r} is not a valid Cassandra table or column name "
                    f"(a letter or underscore, then letters, digits, underscores; at most 48)"
                )

    @classmethod
    def splittable(cls) -> bool:
        """Whether positions can be split by number (integer or decimal positions)."""
        return cls.position_cql_type in ("bigint", "int", "varint", "decimal")

    @classmethod
    def create_table_cql(cls, keyspace: str, partition_size: Any = 0) -> str:
        """``CREATE TABLE IF NOT EXISTS`` for this record's table in ``keyspace``: split into
        partitions of ``partition_size`` positions (0: one partition per sequence)."""
        cls.check()
        sequence_id, position, topic, data = (quote(name) for name in cls.column_names)
        head = (
            f"CREATE TABLE IF NOT EXISTS {qualified(keyspace, cls.table_name)} ("
            f"{sequence_id} {cls.sequence_id_cql_type}, {position} {cls.position_cql_type}, "
            f"{topic} text, {data} text, {quote(FEED_COLUMN)} bigint, "
        )
        if not partition_size:
            return (head + f"PRIMARY KEY (({sequence_id}), {position})"
                    f") WITH CLUSTERING ORDER BY ({position} ASC)")
        append_id, append_head, append_state = (quote(name) for name in APPEND_COLUMNS)
        return (
            head + f"{quote(PARTITION_COLUMN)} bigint, {append_id} bigint, "
            f"{append_head} {cls.position_cql_type}, {append_state} text, "
            f"{quote(LATER_COLUMN)} set<bigint> static, "
            f"PRIMARY KEY (({sequence_id}, {quote(PARTITION_COLUMN)}), {position})"
            f") WITH CLUSTERING ORDER BY ({position} ASC) "
            f"AND comment = '{COMMENT_PREFIX}{partition_size}'"
        )

    @classmethod
    def create_feed_cql(cls, keyspace: str) -> list[str]:
        """The feed's tables (see ``feed``): announcements by time bucket, and their index."""
        cls.check()
        position = cls.position_cql_type
        return [
            f"CREATE TABLE IF NOT EXISTS {qualified(keyspace, cls.table_name + FEED_SUFFIX)} ("
            f"bucket bigint, ts bigint, nonce bigint, sequence_id {cls.sequence_id_cql_type}, "
            f"first_position {position}, last_position {position}, state text, "
            f"PRIMARY KEY ((bucket), ts, nonce)) WITH CLUSTERING ORDER BY (ts ASC, nonce ASC)",
            f"CREATE TABLE IF NOT EXISTS "
            f"{qualified(keyspace, cls.table_name + FEED_INDEX_SUFFIX)} ("
            f"level int, key bigint, value bigint, PRIMARY KEY ((level, key), value))",
        ]

    @classmethod
    def drop_table_cql(cls, keyspace: str) -> str:
        cls.check()
        return f"DROP TABLE IF EXISTS {qualified(keyspace, cls.table_name)}"

    @classmethod
    def drop_feed_cql(cls, keyspace: str) -> list[str]:
        cls.check()
        return [
            f"DROP TABLE IF EXISTS {qualified(keyspace, cls.table_name + suffix)}"
            for suffix in (FEED_SUFFIX, FEED_INDEX_SUFFIX)
        ]


class IntegerSequencedItemRecord(CassandraRecord):
    """Matches ``SequencedItem``: items of a sequence at integer (bigint) positions."""

    table_name = "integer_sequenced_items"
    column_names = ("sequence_id", "position", "topic", "data")


class StoredEventRecord(CassandraRecord):
    """Matches ``StoredEvent``: the domain events of aggregates, by version."""

    table_name = "stored_events"
    column_names = ("originator_id", "originator_version", "event_type", "state")


class TimestampSequencedItemRecord(CassandraRecord):
    """Matches ``SequencedItem`` with ``Decimal`` timestamp positions (CQL ``decimal``)."""

    table_name = "timestamp_sequenced_items"
    column_names = ("sequence_id", "position", "topic", "data")
    position_cql_type = "decimal"
    position_type = Decimal


class SnapshotRecord(CassandraRecord):
    """Matches ``StoredEvent`` for snapshots: one table of its own, by version."""

    table_name = "snapshots"
    column_names = ("originator_id", "originator_version", "event_type", "state")


def quote(identifier: str) -> str:
    """A double-quoted CQL identifier (keeps its case; names are checked beforehand)."""
    return '"' + identifier.replace('"', '""') + '"'


def qualified(keyspace: str, table: str) -> str:
    return f"{quote(keyspace)}.{quote(table)}"


def record_description(record_class: Any) -> type[CassandraRecord]:
    """``record_class`` checked to be a usable record description."""
    if not (isinstance(record_class, type) and issubclass(record_class, CassandraRecord)):
        raise TypeError(
            f"active_record_class must be a subclass of eventstore_cassandra.CassandraRecord "
            f"(such as IntegerSequencedItemRecord or StoredEventRecord), got {record_class!r}"
        )
    record_class.check()
    return record_class
