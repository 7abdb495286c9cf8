"""PostgreSQL (psycopg 3): writers side by side, ``COPY`` for lists, ``LISTEN``/``NOTIFY``.

The global order. The usual way to number everything stored (a sequence, an identity column)
hands out numbers at insert time, not at commit time: a writer that took 10 may commit after a
writer that took 11, and a reader that already went past 11 skips 10 for ever. Here writers
do not wait for each other: a transaction's positions are its own transaction id
(``pg_current_xact_id()``, 64 bits, never reused) shifted left by ``TRANSACTION_BITS``, plus 0,
1, 2, ... for its items (``TakePositions``). Readers return only positions below
``HORIZON_SQL`` (``pg_snapshot_xmin(pg_current_snapshot()) << 16``): every transaction with a
lower id has ended, and every transaction still running or yet to start has a higher one, so
nothing can ever appear below what a reader has passed. A transaction left open holds back
what readers see (from its position on), never the other writers. Positions have gaps
(between transactions); a rollback leaves one more. The statement that takes the positions
also queues a ``NOTIFY`` (``pg_notify``), delivered at commit, so subscribers that
``LISTEN`` (``Listener``) wake up at once instead of polling.

Appends: one item is one statement (``NumberedInsert``: positions taken and the row inserted,
one round trip; in autocommit mode where the strategy chooses the transaction); a list goes
in through one ``COPY ... FROM STDIN``, binary where psycopg knows every column's type. Reads
where the strategy chooses the transaction are single statements in autocommit mode (no
``BEGIN``/``COMMIT`` round trips); psycopg prepares a statement a connection has run a few
times.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from eventstore_core.exceptions import InvalidEventError
from sqlalchemy import (
    Column,
    Dialect,
    Engine,
    Select,
    Table,
    bindparam,
    func,
    literal_column,
    select,
)

from ..compiled import CompiledInsert, CompiledText, row_converter, row_processors
from . import CONNECT_TIMEOUT, Appender, Database, ReadOne

#: Bits of a global position below the transaction id: how many items one transaction may
#: append (65,536), and xid8 values up to 2**47 (140 trillion transactions) fit in a BIGINT.
TRANSACTION_BITS = 16
ITEMS_PER_TRANSACTION = 1 << TRANSACTION_BITS
#: The lowest global position any transaction still running can write: readers stop below it.
HORIZON_SQL = f"(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << {TRANSACTION_BITS})"
#: Seconds ``read_all`` waits, at most, for its own last write to be below the horizon.
READ_YOUR_WRITES_WAIT = 10.0
_CHANNEL = "eventstore_channel"
_NOTIFY_PREFIX = "eventstore_"
_UNIQUE_VIOLATION = "23505"
_RETRY = ("40001", "40P01")  # serialization failure, deadlock detected
_UNDEFINED_TABLE, _UNDEFINED_COLUMN = "42P01", "42703"
_OWN_TRANSACTION: Any = select(
    literal_column(HORIZON_SQL),
    literal_column(f"pg_current_xact_id_if_assigned()::text::bigint << {TRANSACTION_BITS}"),
)
#: Seconds between reads where there is no notification to wait for.
POLL_INTERVAL = 0.05


def channel_name(table: Table) -> str:
    """The notification channel of a table (an identifier of at most 63 bytes)."""
    name = _NOTIFY_PREFIX + table.fullname
    if len(name.encode()) <= 63:
        return name
    return _NOTIFY_PREFIX + hashlib.sha1(table.fullname.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CopyStatement:
    """``COPY table (columns) FROM STDIN``, binary when psycopg knows every column's type."""

    sql: str
    types: list[str] | None  # PostgreSQL type names for the binary format, else None (text)
    #: Converts an item to the values of its row (None: the item's values go as they are).
    convert: Callable[[Sequence[Any]], tuple[Any, ...]] | None
    #: Whether a global position follows the item's own values in each row.
    numbered: bool

    @classmethod
    def for_table(
        cls,
        dialect: Dialect,
        driver_connection: Any,
        table: Table,
        columns: Sequence[Column[Any]],
        global_position: Column[Any] | None,
    ) -> CopyStatement:
        """The statement for ``table``; ``driver_connection`` (psycopg) tells which types
        it can write in the binary format."""
        preparer = dialect.identifier_preparer
        all_columns = [*columns, *([global_position] if global_position is not None else [])]
        names = ", ".join(preparer.quote(column.name) for column in all_columns)
        sql = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
        types = [
            column.type.compile(dialect=dialect).split("(")[0].strip().lower()
            for column in all_columns
        ]
        processors = row_processors(columns, dialect)
        convert = row_converter(processors) if any(processors) else None
        numbered = global_position is not None
        registry = driver_connection.adapters.types
        if all(registry.get(name) is not None for name in types):
            return cls(sql + " (FORMAT BINARY)", types, convert, numbered)
        return cls(sql, None, convert, numbered)

    def write(self, cursor: Any, items: Sequence[Any], first_position: int = 0) -> None:
        """``COPY`` the ``items``, with the global positions ``first_position``, ``+ 1``..."""
        rows: Any = items if self.convert is None else map(self.convert, items)
        if self.numbered:
            rows = ((*row, n) for row, n in zip(rows, count(first_position)))
        with cursor.copy(self.sql) as copy:
            if self.types is not None:
                copy.set_types(self.types)
            write_row = copy.write_row
            for row in rows:
                write_row(row)


class TakePositions:
    """The first free global position of the current transaction, and its notification.

    One probe of the unique index finds how many positions the transaction has used already
    (a caller's transaction may append more than once). Nothing is locked. The
    ``pg_notify`` is queued by the statement and sent at commit.
    """

    def __init__(self, table: Table, global_position: Column[Any], dialect: Dialect) -> None:
        preparer = dialect.identifier_preparer
        name, column = preparer.format_table(table), preparer.quote(global_position.name)
        bits, size = TRANSACTION_BITS, ITEMS_PER_TRANSACTION
        #: Selects ``base`` (the transaction's lowest position), ``first`` (its next free one)
        #: and the notification.
        self.text = (
            f"SELECT x.base, x.base + coalesce((SELECT max(t.{column}) + 1 - x.base "
            f"FROM {name} t WHERE t.{column} >= x.base AND t.{column} < x.base + {size}), 0) "
            f"AS first, pg_notify(:{_CHANNEL}, '') AS notified "
            f"FROM (SELECT pg_current_xact_id()::text::bigint << {bits} AS base) x"
        )
        self.compiled = CompiledText(self.text, dialect)
        self.parameters = self.compiled.parameters({_CHANNEL: channel_name(table)})

    def take(self, cursor: Any, count: int) -> int:
        """The first of ``count`` new positions of the cursor's transaction."""
        cursor.execute(self.compiled.sql, self.parameters)
        base, first, _notified = cursor.fetchone()
        if first + count > base + ITEMS_PER_TRANSACTION:
            raise InvalidEventError(
                f"one transaction may append at most {ITEMS_PER_TRANSACTION:,} items to a "
                f"table with a global order on PostgreSQL; this one has {first - base:,} and "
                f"adds {count:,}: append them in several transactions"
            )
        return int(first)


class NumberedInsert:
    """One item and its global position in one statement, the common append of one event.

    ``WITH taken AS (TakePositions ...) INSERT INTO table (..., global_position) SELECT ...,
    first FROM taken WHERE first < base + ITEMS_PER_TRANSACTION RETURNING global_position``:
    one round trip. No row is inserted when the transaction's positions are used up.
    """

    def __init__(
        self, table: Table, columns: Sequence[Column[Any]], global_position: Column[Any],
        dialect: Dialect,
    ) -> None:
        preparer = dialect.identifier_preparer
        names = ", ".join(preparer.quote(column.name) for column in (*columns, global_position))
        values = ", ".join(
            f"CAST(:{column.key} AS {column.type.compile(dialect=dialect)})" for column in columns
        )
        take = TakePositions(table, global_position, dialect).text
        self.compiled = CompiledText(
            f"WITH taken AS ({take}) INSERT INTO {preparer.format_table(table)} ({names}) "
            f"SELECT {values}, taken.first FROM taken "
            f"WHERE taken.first < taken.base + {ITEMS_PER_TRANSACTION} "
            f"RETURNING {preparer.quote(global_position.name)}",
            dialect,
        )
        self._spec = list(zip([c.key for c in columns], row_processors(columns, dialect),
                              strict=True))
        self._fixed = {_CHANNEL: channel_name(table)}

    def execute(self, cursor: Any, item: Sequence[Any]) -> int | None:
        """Insert ``item``: its global position, or None if none was left."""
        params = dict(self._fixed)
        for (key, convert), value in zip(self._spec, item, strict=False):
            params[key] = convert(value) if convert else value
        cursor.execute(self.compiled.sql, self.compiled.parameters(params))
        row = cursor.fetchone()
        return None if row is None else int(row[0])


class PostgreSQLAppender(Appender):
    """One item: one statement; a list: positions taken, then one ``COPY``."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        gp = self.global_position
        self.take = None if gp is None else TakePositions(self.table, gp, self.dialect)
        self.numbered = None if gp is None else NumberedInsert(
            self.table, self.columns, gp, self.dialect
        )
        self.insert = CompiledInsert(self.table, self.columns, self.dialect, position=gp)
        self.copy: CopyStatement | None = None

    def alone(self, items: Sequence[Any]) -> bool:
        return len(items) == 1

    def append(self, cursor: Any, items: Sequence[Any]) -> int | None:
        if len(items) == 1:
            if self.numbered is None:
                self.insert.execute(cursor, items)
                return None
            written = self.numbered.execute(cursor, items[0])
            if written is None:
                assert self.take is not None
                self.take.take(cursor, 1)  # the transaction's positions are used up: says so
            return written
        first = 0 if self.take is None else self.take.take(cursor, len(items))
        if not hasattr(cursor, "copy"):  # a driver without COPY
            self.insert.execute(cursor, items, first)
        else:
            copy = self.copy
            if copy is None:
                copy = self.copy = CopyStatement.for_table(
                    self.dialect, cursor.connection, self.table, self.columns,
                    self.global_position,
                )
            copy.write(cursor, items, first)
        return None if self.take is None else first + len(items) - 1


class Watchdog:
    """Ends calls whose server has not answered by their deadline: it shuts the connection's
    socket down, so the waiting driver sees the connection closed at once.

    libpq has no read timeout, and a frozen server (``SIGSTOP``, a stalled host) still has a
    kernel that acknowledges packets, so neither TCP keepalives nor ``tcp_user_timeout`` end
    the wait. One thread per process watches every call in progress; a call costs two short
    lock holds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._calls: dict[Deadline, float] = {}
        self._pid = 0
        self._next_wake = float("inf")  # when the watching thread looks again

    def watch(self, call: Deadline) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: a thread of its own
                self._pid = os.getpid()
                self._calls.clear()
                threading.Thread(target=self._run, name="eventstore-pg-watchdog",
                                 daemon=True).start()
            deadline = self._calls[call] = time.monotonic() + call.seconds
            if deadline < self._next_wake:
                self._wake.notify()

    def forget(self, call: Deadline) -> None:
        with self._lock:
            self._calls.pop(call, None)

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                due = [call for call, deadline in self._calls.items() if deadline <= now]
                for call in due:
                    del self._calls[call]
                    call.expire()
                self._next_wake = min(self._calls.values(), default=float("inf"))
                self._wake.wait(None if not self._calls else self._next_wake - now)
                self._next_wake = 0.0  # awake: looks at every call again


class Deadline:
    """One call on a psycopg connection, ended after ``seconds`` (``Watchdog``)."""

    __slots__ = ("connection", "seconds", "expired")

    def __init__(self, connection: Any, seconds: float) -> None:
        self.connection = connection
        self.seconds = seconds
        self.expired = False

    def __enter__(self) -> Deadline:
        WATCHDOG.watch(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        WATCHDOG.forget(self)

    def expire(self) -> None:
        self.expired = True
        try:
            with socket.socket(fileno=os.dup(self.connection.fileno())) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # closed meanwhile: nothing left to end
            pass


WATCHDOG = Watchdog()


class PostgreSQL(Database):
    names = ("postgresql",)
    appender_class = PostgreSQLAppender
    switch_autocommit = True
    table_size_sql = "SELECT pg_total_relation_size(CAST(:name AS regclass))"

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        self._pending: dict[Column[Any], Select[Any]] = {}

    @classmethod
    def bounded_connect_args(cls, seconds: float) -> dict[str, Any]:
        """TCP keepalives and ``tcp_user_timeout``: a connection whose peer is gone (a
        half-open connection, a cable pulled) is an error after about ``seconds``."""
        return {
            "keepalives": 1,
            "keepalives_idle": max(1, int(seconds / 2)),
            "keepalives_interval": max(1, int(seconds / 6)),
            "keepalives_count": 3,
            "tcp_user_timeout": int(seconds * 1000),
        }

    def bounded(self, dbapi_connection: Any) -> Any:
        return Deadline(dbapi_connection, self.server_timeout)

    def read_all_statement(self, statement: Select[Any], global_position: Column[Any]) -> Any:
        return statement.where(global_position < literal_column(HORIZON_SQL))

    def wait_for_own_write(
        self, read_one: ReadOne, global_position: Column[Any], position: int
    ) -> bool:
        """A reader sees its own committed writes: wait (at most ``READ_YOUR_WRITES_WAIT``
        seconds) until the transactions that began before the write at ``position`` have
        ended, so that ``read_all`` returns it; after that it returns what is safe to return,
        as always. False where the write is the reader's own open transaction's."""
        deadline = time.monotonic() + READ_YOUR_WRITES_WAIT
        delay = 0.001
        own = position >> TRANSACTION_BITS << TRANSACTION_BITS
        while True:
            horizon, current = read_one(_OWN_TRANSACTION, {})
            if current == own:
                return False  # the reader's own transaction's, still open: no wait
            if horizon > position or time.monotonic() > deadline:
                return True
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def wait_below_horizon(
        self, read_one: ReadOne, global_position: Column[Any], after: int, deadline: float
    ) -> None:
        """Items committed above ``after`` but still above the horizon (an older
        transaction still running) are waited for until ``read_all`` can return them."""
        pending = self._pending.get(global_position)
        if pending is None:
            pending = self._pending[global_position] = select(
                select(func.min(global_position))
                .where(global_position > bindparam("after"))
                .scalar_subquery(),
                literal_column(HORIZON_SQL),
            )
        delay = 0.001
        while True:
            following, horizon = read_one(pending, {"after": after})
            remaining = deadline - time.monotonic()
            if following is None or following < horizon or remaining <= 0:
                return  # nothing held back: the caller reads (and waits again if need be)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)

    def listener(self, engine: Engine, table: Table) -> Listener | None:
        return Listener(engine, channel_name(table)) if self.dialect.driver == "psycopg" else None

    def _state(self, error: BaseException) -> Any:
        return getattr(error, "sqlstate", None)

    def is_duplicate_key(self, error: BaseException) -> bool:
        return self._state(error) == _UNIQUE_VIOLATION

    def is_transient(self, error: BaseException) -> bool:
        return self._state(error) in _RETRY

    def is_missing_table(self, error: BaseException) -> bool:
        return self._state(error) == _UNDEFINED_TABLE

    def is_missing_column(self, error: BaseException) -> bool:
        return self._state(error) == _UNDEFINED_COLUMN


class Listener:
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
        dialect = self.engine.dialect
        cargs, cparams = dialect.create_connect_args(self.engine.url)
        cparams.setdefault("connect_timeout", CONNECT_TIMEOUT)
        connection = dialect.loaded_dbapi.connect(*cargs, autocommit=True, **cparams)
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
