"""The global order: every stored item gets a position, and a position once read never has
an item appear below it.

The usual way to number everything stored (an auto-increment column, a database sequence)
hands out numbers at insert time, not at commit time: a writer that took 10 may commit after
a writer that took 11, and a reader that already went past 11 skips 10 for ever. Each
database here closes that gap its own way:

* PostgreSQL: writers do not wait for each other. A transaction's positions are its own
  transaction id (``pg_current_xact_id()``, 64 bits, never reused) shifted left by 16 bits,
  plus 0, 1, 2, ... for its items (``postgres.TakePositions``). Readers return only positions
  below ``pg_snapshot_xmin(pg_current_snapshot()) << 16`` (``postgres.HORIZON_SQL``): every
  transaction with a lower id has ended, and every transaction still running or yet to start
  has a higher one, so nothing can ever appear below what a reader has passed. A transaction
  left open holds back what readers see (from its position on), never the other writers.
  Positions have gaps (between transactions); a rollback leaves one more.
* MySQL/MariaDB: a write transaction first runs ``UPDATE global_position_counters SET
  last_position = LAST_INSERT_ID(last_position + n)`` on its table's row and gets the new
  value back in the same reply; its items get ``last - n + 1 .. last``. The row lock is held
  until commit or rollback, so the next writer of the table takes its positions only once
  the previous one is over, and visible: positions are in commit order, without gaps (a
  rollback gives them back). InnoDB shows SQL neither a transaction's own id nor the oldest
  one still running (``information_schema.innodb_trx`` needs the PROCESS privilege and
  gives read-only transactions made-up ids), so the PostgreSQL way is not open here; writers
  of one table commit one after the other.
* SQLite lets one writer at a time into the whole database (``BEGIN IMMEDIATE``), so the
  insert itself numbers its rows, one above the highest (the library's tables: the column is
  the rowid, which SQLite numbers so; a user's table: ``inserts.next_global_position``): no
  counter row, no extra statement. (If the newest items were deleted, or the table dropped
  and created again, their positions are given out again.)

On PostgreSQL the statement that takes the positions also queues a ``NOTIFY`` (``pg_notify``),
delivered at commit, so subscribers that ``LISTEN`` wake up at once instead of polling
(``PostgresListener``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, Table, bindparam, func, select, update
from sqlalchemy.dialects import mysql

from . import postgres
from .errors import wrap
from .records import GLOBAL_POSITION, global_position_counters

COUNTERS = global_position_counters
_NOTIFY_PREFIX = "eventstore_"
#: Seconds between reads where there is no notification to wait for.
POLL_INTERVAL = 0.05


def channel_name(table: Table) -> str:
    """The PostgreSQL notification channel of a table (an identifier of at most 63 bytes)."""
    name = _NOTIFY_PREFIX + table.fullname
    if len(name.encode()) <= 63:
        return name
    return _NOTIFY_PREFIX + hashlib.sha1(table.fullname.encode()).hexdigest()[:32]


class Reservation:
    """Takes global positions for one table (PostgreSQL, MySQL/MariaDB), with SQL compiled
    once per dialect."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.name = table.fullname
        self.channel = channel_name(table)
        self._compiled: dict[str, Any] = {}

    def take(self, conn: Connection, count: int) -> int:
        """Take ``count`` positions in ``conn``'s transaction; return the first of them."""
        if conn.dialect.name == "postgresql":
            sql, parameters = self.statement(conn.dialect)
            base, first, _notified = self._on_driver_cursor(conn, sql, parameters)
            return postgres.first_position(base, first, count)
        last = self._update(conn, count)
        if last is None:  # the table's first write: add its counter row, then take them
            self._add_counter_row(conn)
            last = self._update(conn, count)
            if last is None:
                raise RuntimeError(f"no counter row for table {self.name} after adding it")
        return int(last) - count + 1

    def statement(self, dialect: Dialect) -> tuple[str, Any]:
        """PostgreSQL: the SQL and parameters that select (base, first free position,
        notification) of the current transaction, for a caller with a DB-API cursor."""
        take = self._compiled.get(dialect.name)
        if take is None:
            column = self.table.c[GLOBAL_POSITION]
            take = self._compiled[dialect.name] = postgres.TakePositions(
                self.table, column, dialect
            )
        return take.sql, take.parameters(self.channel)

    def _update(self, conn: Connection, count: int) -> int | None:
        """MySQL/MariaDB: the new last position, or None if the table has no counter row."""
        update = self._compiled.get(conn.dialect.name)
        if update is None:
            update = self._compiled[conn.dialect.name] = CounterUpdate(conn.dialect)
        cursor_rows = self._on_driver_cursor(
            conn, update.sql, update.parameters({"count": count, "name": self.name})
        )
        return cursor_rows

    @staticmethod
    def _on_driver_cursor(conn: Connection, sql: str, parameters: Any) -> Any:
        """Run ``sql`` on the driver's own cursor (the connection and transaction of
        ``conn``): on the hot path, this saves SQLAlchemy's statement overhead. PostgreSQL:
        the row; MySQL: the statement's ``LAST_INSERT_ID`` (None if no row was updated)."""
        dbapi_connection: Any = conn.connection.driver_connection
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(sql, parameters)
                if conn.dialect.name != "postgresql":
                    return cursor.lastrowid if cursor.rowcount else None
                return cursor.fetchone()
            finally:
                cursor.close()
        except BaseException as error:
            if getattr(dbapi_connection, "closed", False):
                conn.invalidate()  # lost: let the pool replace it
            wrapped = wrap(error, conn.dialect)
            if wrapped is error:
                raise
            raise wrapped from error

    def _add_counter_row(self, conn: Connection) -> None:
        """MySQL/MariaDB: insert the table's counter row, after what the table holds."""
        column = self.table.c[GLOBAL_POSITION]
        last = conn.execute(select(func.coalesce(func.max(column), 0))).scalar_one()
        row = {"table_name": self.name, "last_position": last}
        conn.execute(mysql.insert(COUNTERS).prefix_with("IGNORE"), row)


class CounterUpdate:
    """MySQL/MariaDB: the counter ``UPDATE`` whose ``LAST_INSERT_ID`` is the new last
    position (handed back with the update's own reply), compiled for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        counter = COUNTERS.c.last_position
        statement = (
            update(COUNTERS)
            .where(COUNTERS.c.table_name == bindparam("name"))
            .values(last_position=func.last_insert_id(counter + bindparam("count")))
        )
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.names = list(compiled.positiontup or ()) if dialect.positional else None

    def parameters(self, values: dict[str, Any]) -> Any:
        if self.names is None:
            return {name: values[name] for name in ("count", "name")}
        return tuple(values[name] for name in self.names)


class PostgresListener:
    """Waits on a dedicated psycopg connection for the notifications of one channel."""

    def __init__(self, engine: Engine, channel: str) -> None:
        self.engine = engine
        self.channel = channel
        self._connection: Any = None
        self._lock = threading.Lock()

    def wait(self, timeout: float) -> None:
        """Return when a writer committed to the channel, or after ``timeout`` seconds."""
        if not self._lock.acquire(timeout=max(timeout, 0)):
            return  # another thread is waiting on the connection; it will read again too
        try:
            if self._connection is None:
                # Listening from now on: anything committed before is found by the caller's
                # next read, which is why this first call returns at once.
                try:
                    self._connection = self._connect()
                except Exception:  # cannot listen (yet): poll, as other databases do
                    time.sleep(min(timeout, POLL_INTERVAL))
                return
            try:
                for _ in self._connection.notifies(timeout=timeout, stop_after=1):
                    pass
            except Exception:
                self._close()  # lost: reconnect next time (meanwhile the caller reads again)
        finally:
            self._lock.release()

    def _connect(self) -> Any:
        import psycopg

        dialect = self.engine.dialect
        cargs, cparams = dialect.create_connect_args(self.engine.url)
        cparams.setdefault("connect_timeout", 10)
        connection = psycopg.connect(*cargs, autocommit=True, **cparams)
        quoted = dialect.identifier_preparer.quote_identifier(self.channel)
        connection.execute(f"LISTEN {quoted}")
        return connection

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:
                pass

    def close(self) -> None:
        with self._lock:
            self._close()
