"""SQLite: WAL, durable commits, writers that wait their turn, and the insert that numbers rows.

SQLite allows one writer at a time per database file. So that many threads and processes can
write one file without ever seeing "database is locked":

* the file is put in WAL mode, so readers never block the writer nor the writer the readers;
* every connection has a generous busy timeout, so a writer waits for the lock to come free;
* write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken (or waited for)
  at the start, rather than upgraded from a read lock half-way, which SQLite may refuse at
  once whatever the busy timeout. The driver's own transaction handling is off (SQLAlchemy's
  documented pysqlite recipe): this backend's own transactions emit ``BEGIN IMMEDIATE``
  themselves, and a SQLAlchemy ``Connection`` whose execution options carry
  ``WRITE_OPTIONS`` (``{"eventstore_sqlite_begin": "IMMEDIATE"}``) begins so too.

Durability is not traded for speed unless asked for: ``synchronous=FULL`` by default. A file
is served by one connection per thread (``connections``).

An in-memory database (``sqlite:///:memory:``) lives inside one connection, so it is served
by a ``StaticPool`` (every thread sees the same database) that lends the connection to one
thread at a time, from check-out to check-in (``SerializedStaticPool``: public methods and
events only).

Writers take turns, so the insert numbers the global positions itself, one above the
highest: where the column is the rowid (the library's tables) it is left out of the insert
(SQLite gives a new row the highest rowid plus one), elsewhere a subquery computes it. (If the
newest items were deleted, or the table dropped and created again, their positions are given
out again.)

``fork()`` while another thread is inside SQLite copies SQLite's global mutexes locked into the
child, whose first SQLite call then waits for ever (seen with multiprocessing writers forked
while a subscriber thread reads). ``FORK_GUARD`` prevents that: every SQLite transaction of
this backend runs in it, and a fork waits until none is running (and holds new ones back
until it is done). Its fork handler is installed with the first SQLite engine, once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventstore_core.exceptions import ConfigurationError, DatastoreError
from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Table,
    event,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from ..compiled import CompiledInsert
from . import Appender, Database, for_dialect

#: Execution option read by the ``begin`` hook: the kind of ``BEGIN`` to emit.
BEGIN_OPTION = "eventstore_sqlite_begin"
#: Execution options for a connection that will write.
WRITE_OPTIONS: dict[str, Any] = {BEGIN_OPTION: "IMMEDIATE"}

SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
# sqlite3 primary result codes and extended names.
_BUSY, _LOCKED = 5, 6
_DUPLICATE = ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE")


@dataclass(frozen=True)
class SQLiteOptions:
    """How SQLite connections are set up; the defaults favour durability."""

    #: ``PRAGMA synchronous``: FULL (default) fsyncs every commit; NORMAL is faster and can
    #: lose the last commits on power loss (never corrupts the file in WAL mode).
    synchronous: str = "FULL"
    #: Seconds a connection waits for another writer's lock before giving up.
    busy_timeout: float = 60.0

    def __post_init__(self) -> None:
        level = str(self.synchronous).upper()
        if level not in SYNCHRONOUS_LEVELS:
            raise ConfigurationError(
                f"sqlite_synchronous={self.synchronous!r} is not one of "
                f"{', '.join(SYNCHRONOUS_LEVELS)}"
            )
        object.__setattr__(self, "synchronous", level)
        timeout = float(self.busy_timeout)
        if timeout < 0:
            raise ConfigurationError(f"sqlite_busy_timeout must be >= 0, got {self.busy_timeout}")
        object.__setattr__(self, "busy_timeout", timeout)


def is_memory_database(url: URL) -> bool:
    """True for ``sqlite://`` and ``sqlite:///:memory:`` (and ``mode=memory`` URIs)."""
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def configure_engine(engine: Engine, options: SQLiteOptions | None = None) -> None:
    """Install the WAL / busy-timeout / ``BEGIN IMMEDIATE`` set-up on a SQLite engine.

    Public so that users who create their own SQLite engine can give it the same behaviour.
    """
    options = options or SQLiteOptions()
    memory = is_memory_database(engine.url)
    FORK_GUARD.install()
    # Busy is retried, but never for longer than the busy timeout in all.
    for_dialect(engine.dialect).retry_bound = options.busy_timeout

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to this backend (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(options.busy_timeout * 1000)}")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {options.synchronous}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        if memory:
            _refuse_nested(connection.connection.driver_connection)
        mode = connection.get_execution_options().get(BEGIN_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def _refuse_nested(dbapi_connection: Any) -> None:
    if dbapi_connection.in_transaction:
        # Another Connection of this thread (a session's) has a transaction open on the
        # one connection of the database: refuse before anything is touched.
        raise DatastoreError(
            "the in-memory SQLite database has one connection, and another session or "
            "connection of this thread has a transaction open on it: do this inside "
            "that session's transaction, or after it ends"
        )


class SerializedStaticPool(StaticPool):
    """A ``StaticPool`` that lends its one connection to one thread at a time.

    An in-memory database exists only inside its connection, so every thread must use that
    one connection; a lock taken in ``connect()`` (the pool's public check-out) and released
    by the pool's ``reset`` event (which every check-in runs) keeps their transactions from
    interleaving on it. A thread may check it out again while holding it, as a plain
    ``StaticPool`` allows.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lend_lock = threading.RLock()
        if not event.contains(self, "reset", _given_back):
            event.listen(self, "reset", _given_back)

    def connect(self) -> Any:
        self.lend_lock.acquire()
        try:
            proxied = super().connect()
        except BaseException:
            self.lend_lock.release()
            raise
        proxied.info[_LEND_LOCK] = self.lend_lock
        return proxied


_LEND_LOCK = "eventstore_lend_lock"


def _given_back(_dbapi_connection: Any, record: Any, _state: Any) -> None:
    lock = record.info.get(_LEND_LOCK)
    if lock is not None:
        try:
            lock.release()
        except RuntimeError:  # given back by another thread (garbage collection)
            pass


class SQLiteAppender(Appender):
    """The insert in the writer's ``BEGIN IMMEDIATE`` transaction, numbering its rows."""

    insert: CompiledInsert | None = None

    def append(self, cursor: Any, items: Sequence[Any]) -> int | None:
        insert = self.insert
        if insert is None:
            insert = self.insert = self._compile(cursor)
        insert.execute(cursor, items)
        return None

    def _compile(self, cursor: Any) -> CompiledInsert:
        values = None
        gp = self.global_position
        if gp is not None and not is_rowid(cursor, self.table, gp.name):
            # As the table is in the file: one made before the rowid layout has a plain
            # global_position column, numbered one above the highest by a subquery.
            highest = func.coalesce(func.max(gp), literal_column("0"))
            values = {gp.key: select(highest + literal_column("1")).scalar_subquery()}
        return CompiledInsert(self.table, self.columns, self.dialect, values=values)


def is_rowid(cursor: Any, table: Table, column_name: str) -> bool:
    """Whether ``column_name`` is the rowid of ``table`` as the database has it (an
    ``INTEGER PRIMARY KEY``, the library's event tables since the rowid layout; a table made
    before, or a user's table, has a plain column). ``cursor``: a DB-API one."""
    cursor.execute(
        "SELECT name, type, pk FROM pragma_table_info(?, ?)", (table.name, table.schema or "main")
    )
    keys = [(name, str(type_).upper()) for name, type_, pk in cursor.fetchall() if pk]
    return keys == [(column_name, "INTEGER")]


class SQLite(Database):
    names = ("sqlite",)
    appender_class = SQLiteAppender
    write_options = WRITE_OPTIONS
    size_is_the_whole_database = True

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        self.guard = FORK_GUARD

    @classmethod
    def engine_arguments(
        cls, url: URL, settings: Any, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        options: SQLiteOptions = settings.sqlite
        kwargs = dict(kwargs)
        connect_args = dict(kwargs.get("connect_args") or {})
        connect_args.setdefault("timeout", options.busy_timeout)
        connect_args.setdefault("check_same_thread", False)
        kwargs["connect_args"] = connect_args
        if is_memory_database(url):
            kwargs.setdefault("poolclass", SerializedStaticPool)
            # Nothing is reset when a check-out is given back: each user of the connection
            # ends its own transaction, and a reset would end the one another user of the
            # thread has open on the same one connection, such as the caller's session's.
            kwargs.setdefault("pool_reset_on_return", None)
        return kwargs

    @classmethod
    def configure_engine(cls, engine: Engine, settings: Any) -> None:
        configure_engine(engine, settings.sqlite)

    def shared_between_processes(self, url: URL) -> bool:
        return not is_memory_database(url)

    def per_thread_connections(self, url: URL) -> bool:
        return not is_memory_database(url)

    def begin(self, dbapi_connection: Any) -> None:
        _refuse_nested(dbapi_connection)
        dbapi_connection.execute("BEGIN IMMEDIATE")

    def table_size(self, conn: Connection, table: Table) -> int | None:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar()
        return None if pages is None or page_size is None else int(pages) * int(page_size)

    def is_duplicate_key(self, error: BaseException) -> bool:
        return getattr(error, "sqlite_errorname", None) in _DUPLICATE

    def is_busy(self, error: BaseException) -> bool:
        code = getattr(error, "sqlite_errorcode", None)
        return isinstance(code, int) and code & 0xFF in (_BUSY, _LOCKED)

    is_transient = is_busy

    def is_missing_table(self, error: BaseException) -> bool:
        return isinstance(error, self.dbapi.OperationalError) and "no such table" in str(error)

    def is_missing_column(self, error: BaseException) -> bool:
        text = str(error)
        return "has no column named" in text or "no such column" in text


class ForkGuard:
    """Keeps ``fork()`` out of the SQLite calls that other threads of the process make.

    Sections (SQLite transactions of this backend) run concurrently; a fork waits until no
    other thread is in one (at most ``max_wait`` seconds), and new sections wait for the fork.
    ``section()`` is on every SQLite call, so it is a plain context manager (no generator)
    that takes one lock on the way in and one on the way out.
    """

    def __init__(self, max_wait: float = 120.0) -> None:
        self.max_wait = max_wait
        self._local = threading.local()
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        self._active = 0
        self._fork_waiting = False
        self._installed = False

    def install(self) -> None:
        """Make ``fork()`` wait for the sections (once per process; on the first SQLite
        engine: a process that never uses SQLite gets no fork handler)."""
        with self._lock:
            if self._installed:
                return
            self._installed = True
        os.register_at_fork(
            before=self._before_fork,
            after_in_parent=self._after_fork_in_parent,
            after_in_child=self._after_fork_in_child,
        )

    def section(self) -> ForkGuard:
        """A context manager: one SQLite transaction (sections of a thread may nest)."""
        return self

    def __enter__(self) -> None:
        with self._lock:  # held by a fork in progress: wait for it
            self._active += 1
        local = self._local
        local.depth = getattr(local, "depth", 0) + 1

    def __exit__(self, *_exc: object) -> None:
        self._local.depth -= 1
        with self._lock:
            self._active -= 1
            if self._fork_waiting:
                self._condition.notify_all()

    def _before_fork(self) -> None:
        own = getattr(self._local, "depth", 0)  # the forking thread's own sections
        self._lock.acquire()
        self._fork_waiting = True
        self._condition.wait_for(lambda: self._active <= own, timeout=self.max_wait)
        self._fork_waiting = False

    def _after_fork_in_parent(self) -> None:
        self._lock.release()

    def _after_fork_in_child(self) -> None:
        # Only the forking thread exists here: its own sections are the only ones left.
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        self._fork_waiting = False
        self._active = getattr(self._local, "depth", 0)


#: The one guard of the process (see the module docstring).
FORK_GUARD = ForkGuard()


#: The one guard of the process (see the module docstring).
FORK_GUARD = ForkGuard()
