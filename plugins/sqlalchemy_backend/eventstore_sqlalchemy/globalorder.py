"""The global order: every stored item gets a position, increasing in the order of commit.

The usual way to number everything stored (an auto-increment column, a database sequence)
hands out numbers at insert time, not at commit time: a writer that took 10 may commit after
a writer that took 11, and a reader that already went past 11 skips 10 for ever. Here a
writer takes its positions only when no other writer of the table can commit before it:

* PostgreSQL and MySQL/MariaDB: a write transaction first runs ``UPDATE
  global_position_counters SET last_position = last_position + n`` on its table's row and
  gets the new value back (``RETURNING`` on PostgreSQL; ``LAST_INSERT_ID(expr)`` on
  MySQL/MariaDB, in the same reply); its items get ``last - n + 1 .. last``. The row lock is
  held until commit or rollback, so the next writer of the table takes its positions only
  once the previous one is over, and visible (both databases make a commit visible before
  they release its locks): positions are in commit order, and a reader that has seen position
  p never sees a lower one appear later. A rollback gives the numbers back (the counter's
  update is undone with it), so there are no gaps either. On PostgreSQL the append of one item
  does the update and the insert in one statement (``postgres.NumberedInsert``).
* SQLite lets one writer at a time into the whole database (``BEGIN IMMEDIATE``), so the
  insert itself numbers its rows, one above the highest (the library's tables: the column is
  the rowid, which SQLite numbers so; a user's table: ``inserts.next_global_position``): no
  counter row, no extra statement. (The one difference:
  if the newest items were deleted, or the table dropped and created again, their positions
  are given out again; the counter of the other databases never goes back.)

The price is that writers of one table commit one after the other, each holding the counter
from its ``UPDATE`` to its commit (the measured cost is in the README); an application
transaction that appends and then stays open holds up the table's other writers until it ends.

On PostgreSQL the same ``UPDATE`` also queues a ``NOTIFY`` (``pg_notify`` in its
``RETURNING``), delivered at commit, so subscribers that ``LISTEN`` wake up at once instead of
polling (``PostgresListener``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Table,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite

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
    """Takes global positions for one table, with SQL compiled once per dialect."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.name = table.fullname
        self.channel = channel_name(table)
        self._compiled: dict[str, CounterUpdate] = {}

    def take(self, conn: Connection, count: int) -> int:
        """Take ``count`` positions in ``conn``'s transaction; return the first of them."""
        last = self._update(conn, count)
        if last is None:  # the table's first write: add its counter row, then take them
            self._add_counter_row(conn)
            last = self._update(conn, count)
            if last is None:
                raise RuntimeError(f"no counter row for table {self.name} after adding it")
        return int(last) - count + 1

    def counter_update(self, dialect: Dialect, count: int) -> tuple[str, Any]:
        """The SQL and parameters that take ``count`` positions and return the new last one
        (PostgreSQL: with the notification), for a caller with a DB-API cursor."""
        statement = self._statement(dialect)
        values = {"count": count, "name": self.name, "channel": self.channel}
        return statement.sql, statement.parameters(values)

    def _statement(self, dialect: Dialect) -> CounterUpdate:
        statement = self._compiled.get(dialect.name)
        if statement is None:
            statement = self._compiled[dialect.name] = CounterUpdate(dialect)
        return statement

    def _update(self, conn: Connection, count: int) -> int | None:
        """The new last position, or None if the table has no counter row yet.

        On the hot path: run on the driver's own cursor (the connection and transaction of
        ``conn``), which saves SQLAlchemy's statement overhead, about as much again as the
        statement itself costs the database. Driver errors are read by ``errors`` as usual.
        """
        statement = self._statement(conn.dialect)
        values = {"count": count, "name": self.name, "channel": self.channel}
        dbapi_connection: Any = conn.connection.driver_connection
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(statement.sql, statement.parameters(values))
                if statement.last_insert_id:
                    return cursor.lastrowid if cursor.rowcount else None
                rows = cursor.fetchall()
            finally:
                cursor.close()
        except BaseException:
            if getattr(dbapi_connection, "closed", False):
                conn.invalidate()  # lost: let the pool replace it
            raise
        return rows[0][0] if rows else None

    def _add_counter_row(self, conn: Connection) -> None:
        """Insert the table's counter row, starting after what the table already holds."""
        column = self.table.c[GLOBAL_POSITION]
        last = conn.execute(select(func.coalesce(func.max(column), 0))).scalar_one()
        row = {"table_name": self.name, "last_position": last}
        name = conn.dialect.name
        if name == "postgresql":
            statement: Any = postgresql.insert(COUNTERS).on_conflict_do_nothing()
        elif name == "sqlite":
            statement = sqlite.insert(COUNTERS).on_conflict_do_nothing()
        elif name in ("mysql", "mariadb"):
            statement = mysql.insert(COUNTERS).prefix_with("IGNORE")
        else:
            statement = insert(COUNTERS)
        conn.execute(statement, row)


class CounterUpdate:
    """The counter ``UPDATE`` that returns the new last position, compiled for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        counter = COUNTERS.c.last_position
        where = COUNTERS.c.table_name == bindparam("name")
        #: MySQL/MariaDB: the new value comes back as the statement's LAST_INSERT_ID.
        self.last_insert_id = dialect.name in ("mysql", "mariadb")
        statement: Any = update(COUNTERS).where(where)
        if self.last_insert_id:
            # LAST_INSERT_ID(expr) hands the new value back with the update's own reply.
            statement = statement.values(
                last_position=func.last_insert_id(counter + bindparam("count"))
            )
        else:
            statement = statement.values(last_position=counter + bindparam("count"))
            if dialect.name == "postgresql":
                # The notification is queued by this statement and sent at commit.
                notify = func.pg_notify(bindparam("channel"), literal_column("''"))
                statement = statement.returning(counter, notify)
            else:
                statement = statement.returning(counter)
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.names = list(compiled.positiontup or ()) if dialect.positional else None

    def parameters(self, values: dict[str, Any]) -> Any:
        if self.names is None:
            return {name: values[name] for name in ("count", "name", "channel")}
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
