"""SQLite connection set-up: WAL, durable commits, and writers that wait their turn.

SQLite allows one writer at a time per database file. So that many threads and processes can
write one file without ever seeing "database is locked":

* the file is put in WAL mode, so readers never block the writer nor the writer the readers;
* every connection has a generous busy timeout, so a writer waits for the lock to come free;
* write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken (or waited for)
  at the start, rather than upgraded from a read lock half-way, which SQLite may refuse at
  once whatever the busy timeout. This uses SQLAlchemy's documented pysqlite recipe (the
  driver's own transaction handling off, SQLAlchemy's ``begin`` event emits ``BEGIN``); a
  connection whose execution options carry ``WRITE_OPTIONS`` begins ``IMMEDIATE``.

Durability is not traded for speed unless asked for: ``synchronous=FULL`` by default.

An in-memory database (``sqlite:///:memory:``) lives inside one connection, so it is served
by a ``StaticPool`` (every thread sees the same database) that lends the connection to one
thread at a time, from check-out to check-in.

``fork()`` while another thread is inside SQLite copies SQLite's global mutexes locked into the
child, whose first SQLite call then waits for ever (seen with multiprocessing writers forked
while a subscriber thread reads). ``FORK_GUARD`` prevents that: every SQLite transaction of
this backend runs in a ``FORK_GUARD.section()``, and a fork waits until none is running (and
holds new ones back until it is done).
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from typing import Any

from eventstore_core.exceptions import ConfigurationError, DatastoreError
from sqlalchemy import Engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

#: Execution option read by the ``begin`` hook: the kind of ``BEGIN`` to emit.
BEGIN_OPTION = "eventstore_sqlite_begin"
#: Execution options for a connection that will write.
WRITE_OPTIONS: dict[str, Any] = {BEGIN_OPTION: "IMMEDIATE"}

SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")


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


def engine_arguments(url: URL, options: SQLiteOptions, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``create_engine`` keyword arguments for a SQLite URL (the caller's own take precedence)."""
    kwargs = dict(kwargs)
    connect_args = dict(kwargs.get("connect_args") or {})
    connect_args.setdefault("timeout", options.busy_timeout)
    connect_args.setdefault("check_same_thread", False)
    kwargs["connect_args"] = connect_args
    if is_memory_database(url):
        kwargs.setdefault("poolclass", SerializedStaticPool)
        # Nothing is reset when a check-out is given back: each SQLAlchemy Connection ends
        # its own transaction, and a reset would end the one another Connection of the
        # thread has open on the same one connection, such as the caller's session's.
        kwargs.setdefault("pool_reset_on_return", None)
    return kwargs


def configure_engine(engine: Engine, options: SQLiteOptions | None = None) -> None:
    """Install the WAL / busy-timeout / ``BEGIN IMMEDIATE`` set-up on a SQLite engine.

    Public so that users who create their own SQLite engine can give it the same behaviour.
    """
    options = options or SQLiteOptions()
    memory = is_memory_database(engine.url)
    FORK_GUARD.install()

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (see the module docstring).
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
        if memory and connection.connection.driver_connection.in_transaction:
            # Another Connection of this thread (a session's) has a transaction open on the
            # one connection of the database: refuse before anything is touched.
            raise DatastoreError(
                "the in-memory SQLite database has one connection, and another session or "
                "connection of this thread has a transaction open on it: do this inside "
                "that session's transaction, or after it ends"
            )
        mode = connection.get_execution_options().get(BEGIN_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")



def is_rowid(connection: Any, table: Any, column_name: str) -> bool:
    """Whether ``column_name`` is the rowid of ``table`` as the database has it (an
    ``INTEGER PRIMARY KEY``, the library's event tables since the rowid layout; a table made
    before, or a user's table, has a plain column). ``connection``: a SQLAlchemy one."""
    rows = connection.exec_driver_sql(
        "SELECT name, type, pk FROM pragma_table_info(?, ?)", (table.name, table.schema or "main")
    ).fetchall()
    keys = [(name, str(type_).upper()) for name, type_, pk in rows if pk]
    return keys == [(column_name, "INTEGER")]


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


def guarded(dialect_name: str) -> contextlib.AbstractContextManager[None]:
    """``FORK_GUARD.section()`` for SQLite, nothing for other databases."""
    return FORK_GUARD.section() if dialect_name == "sqlite" else contextlib.nullcontext()


class SerializedStaticPool(StaticPool):
    """A ``StaticPool`` that lends its one connection to one thread at a time.

    An in-memory database exists only inside its connection, so every thread must use that
    one connection; a lock taken at check-out and released at check-in keeps their
    transactions from interleaving on it. (A thread may check it out again while holding it,
    as a plain ``StaticPool`` allows.)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lend_lock = threading.RLock()

    def _do_get(self) -> Any:
        self._lend_lock.acquire()
        try:
            return super()._do_get()
        except BaseException:
            self._lend_lock.release()
            raise

    def _do_return_conn(self, record: Any) -> None:
        try:
            super()._do_return_conn(record)
        finally:
            try:
                self._lend_lock.release()
            except RuntimeError:  # returned by another thread (e.g. garbage collection)
                pass
