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

from .records import CassandraRecord, qualified, quote

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
        """Insert one item if its (sequence, position) is free."""
        return self._prepare(
            "insert",
            f"INSERT INTO {self.table} ({self.sequence_id}, {self.position}, {self.topic}, "
            f"{self.data}) VALUES (?, ?, ?, ?) IF NOT EXISTS",
            idempotent=False,
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

    def select_positions(self) -> PreparedStatement:
        """What is stored between two positions (run at SERIAL consistency to settle a write)."""
        return self._prepare(
            "positions",
            f"SELECT {self.position}, {self.topic}, {self.data} FROM {self.table} "
            f"WHERE {self.sequence_id} = ? AND {self.position} >= ? AND {self.position} <= ?",
            idempotent=True,
        )

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
