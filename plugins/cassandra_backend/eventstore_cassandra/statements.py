"""The CQL of one record table, prepared once per session.

Every statement the strategy runs is here, built from the record's column names and the
table's layout (see ``layout``): in a split table a row's key is (sequence, partition,
position), and a statement binds the partition after the sequence (``key()``). A range read
is one of 36 shapes (no/``>``/``>=`` lower bound, no/``<``/``<=`` upper bound, ascending or
descending, with or without ``LIMIT``) within one partition; each is prepared the first time
it is used, so clustering order and limit are always applied by the server.

Rows of a split table are read with their ``append_id`` (see ``crossing``): ``row_columns``
is what every read of items selects.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from cassandra.cluster import Session
from cassandra.query import PreparedStatement

from .layout import Layout
from .records import (
    APPEND_COLUMNS,
    FEED_COLUMN,
    FEED_INDEX_SUFFIX,
    FEED_SUFFIX,
    LATER_COLUMN,
    PARTITION_COLUMN,
    CassandraRecord,
    qualified,
    quote,
)

LowerOp = Literal["", ">", ">="]
UpperOp = Literal["", "<", "<="]
RangeShape = tuple[LowerOp, UpperOp, bool, bool]  # lower, upper, ascending, limited


class RecordStatements:
    """Prepared statements of one record table in one keyspace, on one session."""

    def __init__(self, session: Session, keyspace: str, record: type[CassandraRecord],
                 layout: Layout) -> None:
        self.session = session
        self.layout = layout
        self.split = layout.split
        self.table = qualified(keyspace, record.table_name)
        self.sequence_id, self.position, self.topic, self.data = (
            quote(name) for name in record.column_names
        )
        self.partition_nr = quote(PARTITION_COLUMN)
        #: The row's partition: ``sequence = ? [AND partition_nr = ?]``.
        self.in_partition = f"{self.sequence_id} = ?" + (
            f" AND {self.partition_nr} = ?" if self.split else "")
        self.append_id, self.append_head, self.append_state = (
            quote(name) for name in APPEND_COLUMNS)
        self.later = quote(LATER_COLUMN)
        #: What reads of items select: position, topic, data; in a split table also the
        #: append id (a null column costs next to nothing to read; the rare rows that have
        #: one are looked at again, see ``crossing.visible``) and partition 0's list of the
        #: sequence's other partitions (static: the same in every row of partition 0).
        self.row_columns = f"{self.position}, {self.topic}, {self.data}" + (
            f", {self.append_id}, {self.later}" if self.split else "")
        self.feed_id = quote(FEED_COLUMN)
        self.feed = qualified(keyspace, record.table_name + FEED_SUFFIX)
        self.feed_index = qualified(keyspace, record.table_name + FEED_INDEX_SUFFIX)
        self._prepared: dict[object, PreparedStatement] = {}
        self._lock = threading.Lock()

    def _prepare(self, key: object, cql: str, idempotent: bool) -> PreparedStatement:
        statement = self._prepared.get(key)
        if statement is None:
            with self._lock:
                statement = self._prepared.get(key)
                if statement is None:
                    statement = self.session.prepare(cql)
                    statement.is_idempotent = idempotent
                    self._prepared[key] = statement
        return statement

    # -- writes (never retried by the driver: see errors.WriteSafeRetryPolicy) ----------
    def key(self, sequence_id: Any, position: Any) -> tuple[Any, ...]:
        """The binds of ``in_partition`` for the row at ``position``."""
        if self.split:
            return (sequence_id, self.layout.partition(position))
        return (sequence_id,)

    def insert(self) -> PreparedStatement:
        """Insert one item if its position is free; binds key, position, topic, data, feed id."""
        partition = f"{self.partition_nr}, " if self.split else ""
        marks = "?, " if self.split else ""
        return self._prepare(
            "insert",
            f"INSERT INTO {self.table} ({self.sequence_id}, {partition}{self.position}, "
            f"{self.topic}, {self.data}, {self.feed_id}) VALUES (?, {marks}?, ?, ?, ?) "
            f"IF NOT EXISTS",
            idempotent=False,
        )

    def insert_pending(self) -> PreparedStatement:
        """``insert`` with the append columns (see ``crossing``); binds key, position, topic,
        data, feed id, append id, head position, state."""
        return self._prepare(
            "insert_pending",
            f"INSERT INTO {self.table} ({self.sequence_id}, {self.partition_nr}, "
            f"{self.position}, {self.topic}, {self.data}, {self.feed_id}, {self.append_id}, "
            f"{self.append_head}, {self.append_state}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            f"IF NOT EXISTS",
            idempotent=False,
        )

    def set_state(self) -> PreparedStatement:
        """Commit or void an append's head row (LWT); binds new state, key, position, append
        id, expected state."""
        return self._prepare(
            "set_state",
            f"UPDATE {self.table} SET {self.append_state} = ? WHERE {self.in_partition} AND "
            f"{self.position} = ? IF {self.append_id} = ? AND {self.append_state} = ?",
            idempotent=False,
        )

    def delete_pending(self) -> PreparedStatement:
        """Delete a row of an append that is not committed; binds key, position, append id."""
        return self._prepare(
            "delete_pending",
            f"DELETE FROM {self.table} WHERE {self.in_partition} AND {self.position} = ? "
            f"IF {self.append_id} = ?",
            idempotent=False,
        )

    def marks(self) -> PreparedStatement:
        """A row's append columns: id, head position, state; binds key, position."""
        return self._prepare(
            "marks",
            f"SELECT {self.append_id}, {self.append_head}, {self.append_state} "
            f"FROM {self.table} WHERE {self.in_partition} AND {self.position} = ?",
            idempotent=True,
        )

    def head(self) -> PreparedStatement:
        """An append's head row: its append id and state; binds key, position."""
        return self._prepare(
            "head",
            f"SELECT {self.append_id}, {self.append_state} FROM {self.table} "
            f"WHERE {self.in_partition} AND {self.position} = ?",
            idempotent=True,
        )

    def add_partition(self) -> PreparedStatement:
        """Note one of a sequence's partitions other than 0 in partition 0's static set
        (plain write); binds the set ``{partition}``, the sequence."""
        return self._prepare(
            "add_partition",
            f"UPDATE {self.table} SET {self.later} = {self.later} + ? WHERE "
            f"{self.sequence_id} = ? AND {self.partition_nr} = 0",
            idempotent=True,
        )

    def later_partitions(self) -> PreparedStatement:
        """Partition 0's static set of a sequence's other partitions; binds the sequence."""
        return self._prepare(
            "later_partitions",
            f"SELECT {self.later} FROM {self.table} WHERE {self.sequence_id} = ? AND "
            f"{self.partition_nr} = 0 LIMIT 1",
            idempotent=True,
        )

    def partitions_after_token(self) -> PreparedStatement:
        """Partition keys (of a split table) whose token is above a token; binds token,
        limit."""
        return self._prepare(
            "partitions_after_token",
            f"SELECT DISTINCT token({self.sequence_id}, {self.partition_nr}), "
            f"{self.sequence_id}, {self.partition_nr} FROM {self.table} "
            f"WHERE token({self.sequence_id}, {self.partition_nr}) > ? LIMIT ?",
            idempotent=True,
        )

    def rehome(self) -> PreparedStatement:
        """Point a stored row at another feed entry; binds new id, key, position, old id."""
        return self._prepare(
            "rehome",
            f"UPDATE {self.table} SET {self.feed_id} = ? WHERE {self.in_partition} AND "
            f"{self.position} = ? IF {self.feed_id} = ?",
            idempotent=False,
        )

    # -- the feed (see feed.py) ---------------------------------------------------------
    def announce(self) -> PreparedStatement:
        """A feed entry (plain write); binds bucket, ts, nonce, sequence, first, last."""
        return self._prepare(
            "announce",
            f"INSERT INTO {self.feed} (bucket, ts, nonce, sequence_id, first_position, "
            f"last_position) VALUES (?, ?, ?, ?, ?, ?)",
            idempotent=True,
        )

    def index(self) -> PreparedStatement:
        """An index row (level 0: a day that has buckets; 1: a bucket of a day)."""
        return self._prepare(
            "index", f"INSERT INTO {self.feed_index} (level, key, value) VALUES (?, ?, ?)",
            idempotent=True,
        )

    def decide(self) -> PreparedStatement:
        """Settle a feed entry once (LWT); binds state, bucket, ts, nonce."""
        return self._prepare(
            "decide",
            f"UPDATE {self.feed} SET state = ? WHERE bucket = ? AND ts = ? AND nonce = ? "
            f"IF state = null",
            idempotent=False,
        )

    def index_values(self) -> PreparedStatement:
        """Index values of one key in a range; binds level, key, low, high."""
        return self._prepare(
            "index_values",
            f"SELECT value FROM {self.feed_index} WHERE level = ? AND key = ? "
            f"AND value >= ? AND value <= ?",
            idempotent=True,
        )

    def entries(self) -> PreparedStatement:
        """Feed entries of a bucket from (ts, nonce) inclusive to below (ts, 0); + limit."""
        return self._prepare(
            "entries",
            f"SELECT ts, nonce, sequence_id, first_position, last_position, state "
            f"FROM {self.feed} WHERE bucket = ? AND (ts, nonce) >= (?, ?) "
            f"AND (ts, nonce) < (?, 0) LIMIT ?",
            idempotent=True,
        )

    def announced(self) -> PreparedStatement:
        """The rows of one partition between two positions, with their feed ids (and append
        id and state); binds key, first, last."""
        extra = f", {self.append_id}, {self.append_state}" if self.split else ""
        return self._prepare(
            "announced",
            f"SELECT {self.position}, {self.topic}, {self.data}, {self.feed_id}{extra} "
            f"FROM {self.table} WHERE {self.in_partition} AND {self.position} >= ? "
            f"AND {self.position} <= ?",
            idempotent=True,
        )

    def announced_binds(self, sequence_id: Any, first: Any, last: Any) -> list[Any]:
        """``announced``, bound for each partition from ``first``'s to ``last``'s."""
        statement = self.announced()
        if not self.split:
            return [statement.bind((sequence_id, first, last))]
        low, high = self.layout.partition(first), self.layout.partition(last)
        return [statement.bind((sequence_id, partition, first, last))
                for partition in range(low, high + 1)]

    # -- reads --------------------------------------------------------------------------
    def select_range(self, shape: RangeShape) -> PreparedStatement:
        """Items of one partition within bounds; binds: key, [lower], [upper], [limit]."""
        lower, upper, ascending, limited = shape
        where = self.in_partition
        if lower:
            where += f" AND {self.position} {lower} ?"
        if upper:
            where += f" AND {self.position} {upper} ?"
        order = "ASC" if ascending else "DESC"
        cql = (
            f"SELECT {self.row_columns} FROM {self.table} "
            f"WHERE {where} ORDER BY {self.position} {order}"
        )
        if limited:
            cql += " LIMIT ?"
        return self._prepare(("range", shape), cql, idempotent=True)

    def first_rows_after_token(self) -> PreparedStatement:
        """Rows of the partitions whose token is above a token; binds: token, limit."""
        return self._prepare(
            "after_token",
            f"SELECT token({self.sequence_id}), {self.sequence_id}, {self.position}, "
            f"{self.topic}, {self.data} FROM {self.table} "
            f"WHERE token({self.sequence_id}) > ? LIMIT ?",
            idempotent=True,
        )

    def rest_of_partition(self) -> PreparedStatement:
        """Rows of one sequence after a position; binds: id, position, limit."""
        return self._prepare(
            "rest_of_partition",
            f"SELECT {self.position}, {self.topic}, {self.data} FROM {self.table} "
            f"WHERE {self.sequence_id} = ? AND {self.position} > ? LIMIT ?",
            idempotent=True,
        )
