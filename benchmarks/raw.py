"""The raw drivers, no library: the same rows, inserted and read the plainest fast way.

Rows are made before timing (JSON through orjson), so these figures are the floor: what the
driver and the database cost for the same inserts and reads. The tables match this project's
(sequence id, position, topic, data) with the primary key on (sequence id, position).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson

from . import servers
from .sides import Side, TempDir
from .workload import TOPIC, EventSpec


def row_data(spec: EventSpec) -> str:
    state = spec.attributes()
    state["timestamp"] = spec.timestamp.isoformat()
    return orjson.dumps(state).decode()


class RawSide(Side):
    library = "raw"

    def position_of(self, event: Any) -> int:
        return int(event[1])


class SQLiteSide(RawSide):
    """sqlite3 with WAL and SQLite's default synchronous=FULL, executemany in a transaction."""

    backend = "sqlite"
    conflict_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: str | None = None) -> None:
        self.tmp: TempDir | None = None
        if path is None:
            self.tmp = TempDir("bench-raw-")
            path = self.tmp.file("raw.sqlite3")
        self.path = path
        self.conn: sqlite3.Connection | None = None

    def open_existing(self) -> None:
        """Open the file as it is (W7's writer processes); a writer waits up to 60 s for
        another's lock."""
        self.conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=60
        )

    def reset(self) -> None:
        self.close()
        if self.tmp is not None:
            self.tmp.clear()
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE items (sequence_id CHAR(32) NOT NULL, position INTEGER NOT NULL, "
            "topic VARCHAR(255) NOT NULL, data TEXT NOT NULL, "
            "PRIMARY KEY (sequence_id, position)) WITHOUT ROWID"
        )
        self.conn = conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def cleanup(self) -> None:
        self.close()
        if self.tmp is not None:
            self.tmp.cleanup()

    def _conn(self) -> sqlite3.Connection:
        assert self.conn is not None, "reset() first"
        return self.conn

    def make_events(self, specs: Sequence[EventSpec]) -> list[Any]:
        return [(s.sequence_id.hex, s.position, TOPIC, row_data(s)) for s in specs]

    def append(self, events: list[Any]) -> None:
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", events)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read_sequence(self, sequence_id: UUID) -> list[Any]:
        return self._conn().execute(
            "SELECT sequence_id, position, topic, data FROM items WHERE sequence_id = ? "
            "ORDER BY position",
            (sequence_id.hex,),
        ).fetchall()

    def read_last(self, sequence_id: UUID, count: int) -> list[Any]:
        return self._conn().execute(
            "SELECT sequence_id, position, topic, data FROM items WHERE sequence_id = ? "
            "ORDER BY position DESC LIMIT ?",
            (sequence_id.hex, count),
        ).fetchall()


class PostgresSide(RawSide):
    """psycopg 3: ``executemany`` (pipelined) or ``COPY``, one transaction a call."""

    backend = "postgres"

    def __init__(self, mode: str = "executemany") -> None:
        import psycopg

        self.variant = mode
        self.conflict_errors = (psycopg.errors.UniqueViolation,)
        self.conn: Any = None

    def _connect(self) -> Any:
        import psycopg

        pg = servers.postgres()
        return psycopg.connect(pg.conninfo(servers.ensure_raw_database()), autocommit=True)

    def open_existing(self) -> None:
        """Connect to the table as it is (W7's writer processes)."""
        self.conn = self._connect()

    def reset(self) -> None:
        self.close()
        self.conn = self._connect()
        self.conn.execute("DROP TABLE IF EXISTS raw_items")
        self.conn.execute(
            "CREATE TABLE raw_items (sequence_id uuid NOT NULL, position bigint NOT NULL, "
            "topic varchar(255) NOT NULL, data text NOT NULL, "
            "PRIMARY KEY (sequence_id, position))"
        )

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def make_events(self, specs: Sequence[EventSpec]) -> list[Any]:
        return [(s.sequence_id, s.position, TOPIC, row_data(s)) for s in specs]

    def append(self, events: list[Any]) -> None:
        conn = self.conn
        with conn.transaction(), conn.cursor() as cur:
            if self.variant == "copy":
                with cur.copy(
                    "COPY raw_items (sequence_id, position, topic, data) FROM STDIN"
                ) as copy:
                    for row in events:
                        copy.write_row(row)
            elif len(events) == 1:
                cur.execute("INSERT INTO raw_items VALUES (%s, %s, %s, %s)", events[0])
            else:
                cur.executemany("INSERT INTO raw_items VALUES (%s, %s, %s, %s)", events)

    def read_sequence(self, sequence_id: UUID) -> list[Any]:
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT sequence_id, position, topic, data FROM raw_items "
                "WHERE sequence_id = %s ORDER BY position",
                (sequence_id,),
            )
            return cur.fetchall()

    def read_last(self, sequence_id: UUID, count: int) -> list[Any]:
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT sequence_id, position, topic, data FROM raw_items "
                "WHERE sequence_id = %s ORDER BY position DESC LIMIT %s",
                (sequence_id, count),
            )
            return cur.fetchall()
