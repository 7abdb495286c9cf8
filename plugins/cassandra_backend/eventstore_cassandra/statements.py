"""The CQL of one record table, prepared once per session.

Every statement the strategy runs is here, built from the record's column names. A range read
is one of 36 shapes (no/``>``/``>=`` lower bound, no/``<``/``<=`` upper bound, ascending or
descending, with or without ``LIMIT``); each is prepared the first time it is used, so
clustering order and limit are always applied by the server.
"""

from __future__ import annotations

import threading
from typing import Literal

from cassandra.cluster import Session
from cassandra.query import PreparedStatement

from .records import FEED_COLUMN, FEED_INDEX_SUFFIX, FEED_SUFFIX, CassandraRecord, qualified, quote

LowerOp = Literal["", ">", ">="]
UpperOp = Literal["", "<", "<="]
RangeShape = tuple[LowerOp, UpperOp, bool, bool]  # lower, upper, ascending, limited


class RecordStatements:
    """Prepared statements of one record table in one keyspace, on one session."""

    def __init__(self, session: Session, keyspace: str, record: type[CassandraRecord]) -> None:
        self.session = session
        self.table = qualified(keyspace, record.table_name)
        self.sequence_id, self.position, self.topic, self.data = (
            quote(name) for name in record.column_names
        )
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
    def insert(self) -> PreparedStatement:
        """Insert one item if its (sequence, position) is free; binds the item and a feed id."""
        return self._prepare(
            "insert",
            f"INSERT INTO {self.table} ({self.sequence_id}, {self.position}, {self.topic}, "
            f"{self.data}, {self.feed_id}) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
            idempotent=False,
        )

    def rehome(self) -> PreparedStatement:
        """Point a stored row at another feed entry; binds new id, sequence, position, old id."""
        return self._prepare(
            "rehome",
            f"UPDATE {self.table} SET {self.feed_id} = ? WHERE {self.sequence_id} = ? AND "
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
        """The rows of one sequence between two positions, with their feed ids."""
        return self._prepare(
            "announced",
            f"SELECT {self.position}, {self.topic}, {self.data}, {self.feed_id} "
            f"FROM {self.table} WHERE {self.sequence_id} = ? AND {self.position} >= ? "
            f"AND {self.position} <= ?",
            idempotent=True,
        )

    # -- reads --------------------------------------------------------------------------
    def select_range(self, shape: RangeShape) -> PreparedStatement:
        """Items of one sequence within bounds; binds: id, [lower], [upper], [limit]."""
        lower, upper, ascending, limited = shape
        where = f"{self.sequence_id} = ?"
        if lower:
            where += f" AND {self.position} {lower} ?"
        if upper:
            where += f" AND {self.position} {upper} ?"
        order = "ASC" if ascending else "DESC"
        cql = (
            f"SELECT {self.position}, {self.topic}, {self.data} FROM {self.table} "
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
