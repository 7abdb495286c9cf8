"""Where an operation's DB-API connection and its transaction come from: two kinds.

Every operation of the strategy (append, take global positions, each read) is a function of
a DB-API cursor, written once per database (``databases``); it runs on either source:

* ``OwnTransaction``: the strategy's own transaction, where the caller's session has none
  open and is bound to an engine. The connection is this thread's own for a SQLite file
  (``PerThreadConnections``: a pool check-out and check-in cost more than a short SQLite
  read), else one checked out of the engine's pool. A write is ``begin`` (the database's:
  SQLite ``BEGIN IMMEDIATE``, else implicit), the operation, ``COMMIT``; rolled back on any
  error, and run again while the database says busy or deadlocked (``retry_timeout``). A
  read, and an append that is one statement (PostgreSQL), run alone in autocommit mode
  where the database has it. A failure during the ``COMMIT``, or a connection lost during a
  statement that commits itself, is ``OutcomeUnknownError``: the server may have committed.
* ``SessionTransaction``: the caller's session. With a transaction open in it (begun by
  the caller, or auto-begun by the caller's use of the session), reads run in it and writes
  under a SAVEPOINT (``session.begin_nested()``), on the session connection's own DB-API
  connection: a conflict undoes only that write, and the caller's commit makes the items
  durable with the caller's other changes. This source never commits or rolls back the
  caller's transaction. With none open (a session bound to a ``Connection``, as test
  fixtures do), it begins the session's transaction itself and commits it.

Both also hand out a SQLAlchemy ``Connection`` in the same transaction (``core``) for DDL and
``describe``. Driver errors leave as SQLAlchemy wraps them (``errors.wrap``); a connection
lost is never used again.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from eventstore_core.exceptions import DatastoreError, OutcomeUnknownError
from sqlalchemy import Connection, Engine, Table, event
from sqlalchemy.orm import Session

from .databases import Database
from .errors import safe_url, transient_on, wrap
from .retry import RETRY_TIMEOUT, retry_transient

R = TypeVar("R")
Work = Callable[[Any], R]


class OwnTransaction:
    """The strategy's own transactions on ``engine`` (see the module docstring)."""

    def __init__(
        self, engine: Engine, database: Database, retry_timeout: float = RETRY_TIMEOUT
    ) -> None:
        self.engine = engine
        self.database = database
        bound = database.retry_bound
        self.retry_timeout = retry_timeout if bound is None else min(retry_timeout, bound)
        self.transient = transient_on(database)
        self.per_thread = (
            per_thread_connections(engine)
            if database.per_thread_connections(engine.url) else None
        )

    def write(self, work: Work[R], *, alone: bool = False) -> R:
        """``work(cursor)`` in a transaction of its own, committed; ``alone``: it is one
        statement, which may commit itself (autocommit)."""
        if alone and self.database.switch_autocommit:
            return retry_transient(lambda: self._alone(work, True), self.retry_timeout,
                                   self.transient)
        return retry_transient(lambda: self._transaction(work), self.retry_timeout,
                               self.transient)

    def read(self, work: Work[R]) -> R:
        """``work(cursor)`` outside any explicit transaction (one statement sees one
        consistent state of the database on its own)."""
        return retry_transient(lambda: self._alone(work, False), self.retry_timeout,
                               self.transient)

    def core(
        self,
        work: Callable[[Connection], R],
        *,
        write: bool,
        should_retry: Callable[[BaseException], bool] | None = None,
    ) -> R:
        """``work(connection)`` on a SQLAlchemy ``Connection`` in a transaction of its own."""
        def attempt() -> R:
            with self.database.guard, self.engine.connect() as conn:
                if write and self.database.write_options:
                    conn = conn.execution_options(**self.database.write_options)
                with conn.begin():
                    return work(conn)

        return retry_transient(
            attempt, self.retry_timeout, should_retry or transient_on(self.database)
        )

    def _transaction(self, work: Work[R]) -> R:
        database = self.database
        with database.guard:
            dbapi_connection, holder = self._check_out()
            deadline = database.bounded(dbapi_connection)
            begun = committing = False
            try:
                with deadline:
                    database.begin(dbapi_connection)  # may refuse: then nothing is touched
                    begun = True
                    cursor = dbapi_connection.cursor()
                    try:
                        result = work(cursor)
                    finally:
                        cursor.close()
                    committing = True
                    dbapi_connection.commit()
            except BaseException as error:
                self._failed(dbapi_connection, holder, error, rollback=begun and not committing)
                failure = self._error(error, deadline, committing, "the COMMIT failed")
                if failure is error:
                    raise
                raise failure from error
            if deadline.expired:  # ended just in time: its socket is shut down all the same
                self._discard(holder)
            else:
                self._check_in(holder)
            return result

    def _alone(self, work: Work[R], commits: bool) -> R:
        database = self.database
        switch = database.switch_autocommit
        with database.guard:
            dbapi_connection, holder = self._check_out()
            deadline = database.bounded(dbapi_connection)
            try:
                with deadline:
                    if switch:
                        dbapi_connection.autocommit = True
                    cursor = dbapi_connection.cursor()
                    try:
                        result = work(cursor)
                    finally:
                        cursor.close()
                    if switch:
                        dbapi_connection.autocommit = False
            except BaseException as error:
                if switch:
                    try:
                        dbapi_connection.autocommit = False
                    except Exception:  # lost: _failed finds out
                        pass
                lost = self._failed(dbapi_connection, holder, error, rollback=False)
                failure = self._error(error, deadline, commits and lost, "the connection was lost")
                if failure is error:
                    raise
                raise failure from error
            if deadline.expired:  # ended just in time: its socket is shut down all the same
                self._discard(holder)
            else:
                self._check_in(holder)
            return result

    def _error(
        self, error: BaseException, deadline: Any, unknown: bool, what: str
    ) -> BaseException:
        """What to raise for ``error``: ``OutcomeUnknownError`` where the server may have
        committed; ``DatastoreError`` where it did not answer in time; else the driver's
        error as SQLAlchemy wraps it."""
        silent = deadline.expired
        if silent:
            what = f"the server did not answer within server_timeout={deadline.seconds:g} s"
        if unknown:
            return OutcomeUnknownError(
                f"{what} on {safe_url(self.engine.url)}, so the transaction may or may not "
                f"have been committed: read back what it wrote before writing it again "
                f"[{type(error).__name__}: {' '.join(str(error).split())}]"
            )
        if silent:
            return DatastoreError(
                f"{what} on {safe_url(self.engine.url)} (the connection is closed; is the "
                f"server overloaded or frozen?)"
            )
        return wrap(error, self.engine.dialect)

    def _check_out(self) -> tuple[Any, Any]:
        if self.per_thread is not None:
            slot = self.per_thread.acquire()
            return slot.connection, slot
        try:
            pooled = self.engine.raw_connection()
        except self.database.dbapi.Error as error:  # cannot connect: as SQLAlchemy wraps it
            raise wrap(error, self.engine.dialect) from error
        return pooled.dbapi_connection, pooled

    def _discard(self, holder: Any) -> None:
        """A connection that must not be used again: closed, not given back."""
        if self.per_thread is not None:
            self.per_thread.drop(holder)
            holder.busy = False
        else:
            holder.invalidate()
            holder.close()

    def _check_in(self, holder: Any) -> None:
        if self.per_thread is not None:
            holder.busy = False
        else:
            holder.close()  # back to the pool

    def _failed(
        self, dbapi_connection: Any, holder: Any, error: BaseException, *, rollback: bool
    ) -> bool:
        """Clean up after ``error``; whether the connection was lost (then never used
        again: closed, not given back to the pool)."""
        dialect = self.engine.dialect
        lost = isinstance(error, self.database.dbapi.Error) and dialect.is_disconnect(
            error, dbapi_connection, None  # type: ignore[arg-type]
        )
        if rollback and not lost:
            try:
                dbapi_connection.rollback()
            except Exception:
                lost = True
        try:
            if self.per_thread is not None:
                if lost:
                    self.per_thread.drop(holder)
            elif lost:
                holder.invalidate(error)
        finally:
            self._check_in(holder)
        return lost


class SessionTransaction:
    """The caller's session transaction (see the module docstring)."""

    def __init__(
        self,
        session: Session,
        table: Table | None,
        database: Database,
        retry_timeout: float = RETRY_TIMEOUT,
    ) -> None:
        self.session = session
        self.bind_arguments = {"clause": table} if table is not None else None
        self.database = database
        self.retry_timeout = retry_timeout

    def write(self, work: Work[R], *, alone: bool = False) -> R:
        return self.core(lambda conn: self._on_driver(conn, work), write=True)

    def read(self, work: Work[R]) -> R:
        return self.core(lambda conn: self._on_driver(conn, work), write=False)

    def core(
        self,
        work: Callable[[Connection], R],
        *,
        write: bool,
        should_retry: Callable[[BaseException], bool] | None = None,
    ) -> R:
        session = self.session
        with self.database.guard:
            if session.get_transaction() is not None:  # the caller's: never ended here
                if not write:
                    return work(session.connection(self.bind_arguments))
                with session.begin_nested():
                    return work(session.connection(self.bind_arguments))
        return retry_transient(lambda: self._own_session(work, write), self.retry_timeout,
                               should_retry or transient_on(self.database))

    def _own_session(self, work: Callable[[Connection], R], write: bool) -> R:
        """No transaction open in the session: one of its own, begun and ended here."""
        session = self.session
        options = self.database.write_options if write else None
        with self.database.guard:
            try:
                result = work(session.connection(self.bind_arguments, execution_options=options))
            except BaseException:
                session.rollback()
                raise
            try:
                session.commit()
            except BaseException as error:
                raise OutcomeUnknownError(
                    f"the COMMIT failed on {safe_url(session.get_bind().engine.url)}, so "
                    f"the transaction may or may not have been committed: read back what it "
                    f"wrote before writing it again [{' '.join(str(error).split())}]"
                ) from error
            return result

    def _on_driver(self, conn: Connection, work: Work[R]) -> R:
        """``work`` on a cursor of the DB-API connection under ``conn`` (same transaction)."""
        dbapi_connection: Any = conn.connection.dbapi_connection
        deadline: Any = self.database.bounded(dbapi_connection)
        try:
            with deadline:
                cursor = dbapi_connection.cursor()
                try:
                    return work(cursor)
                finally:
                    cursor.close()
        except BaseException as error:
            if deadline.expired:
                conn.invalidate(error)
                raise DatastoreError(
                    f"the server did not answer within server_timeout={deadline.seconds:g} s "
                    f"(the connection is closed; is the server overloaded or frozen?)"
                ) from error
            dialect = conn.dialect
            if isinstance(error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
                error, dbapi_connection, None  # type: ignore[arg-type]
            ):
                conn.invalidate(error)  # lost: let the pool replace it
            wrapped = wrap(error, dialect)
            if wrapped is error:
                raise
            raise wrapped from error


class Slot:
    """One thread's connection, and whether the thread is using it now."""

    __slots__ = ("connection", "busy", "pid", "generation", "__weakref__")

    def __init__(self, connection: Any, generation: int) -> None:
        self.connection = connection
        self.busy = False
        self.pid = os.getpid()
        self.generation = generation


class PerThreadConnections:
    """The per-thread DB-API connections of one SQLite file engine.

    Use: ``slot = connections.acquire()``, then ``slot.connection``; if it was lost
    ``connections.drop(slot)``; in every case ``slot.busy = False`` when done. Made by the pool
    (so with the engine's ``connect`` set-up), then detached from it. A thread's connection
    is closed when the thread ends, when the engine is disposed, or when it is lost; after
    ``fork()`` the child makes its own (the parent's are left alone in the child, never closed
    there, as SQLite asks).
    """

    def __init__(self, engine: Engine) -> None:
        # Weak: this lives in _ENGINES for as long as the engine does, and must not keep it.
        self._engine = weakref.ref(engine)
        self.dialect = engine.dialect
        self._local = threading.local()
        self._slots: weakref.WeakSet[Slot] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._generation = 0  # bumped by dispose: older connections are not used again
        self._inherited: list[Any] = []  # a parent's connections, kept open in a child
        this = weakref.ref(self)

        def on_dispose(_engine: Engine) -> None:
            connections = this()
            if connections is not None:
                connections.close_all()

        event.listen(engine, "engine_disposed", on_dispose)

    def acquire(self) -> Slot:
        """This thread's connection, marked busy (not re-entrant)."""
        slot: Slot | None = getattr(self._local, "slot", None)
        if slot is None or slot.generation != self._generation or slot.pid != os.getpid():
            slot = self._replace(slot)
        slot.busy = True
        return slot

    def drop(self, slot: Slot) -> None:
        """A lost connection: closed, and replaced next time."""
        self._close(slot)
        self._local.slot = None

    def _replace(self, old: Slot | None) -> Slot:
        if old is not None:
            if old.pid != os.getpid():
                self._inherited.append(old.connection)  # the parent's: never closed here
            else:
                self._close(old)
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the engine of these connections no longer exists")
        pooled = engine.raw_connection()
        connection = pooled.dbapi_connection
        pooled.detach()  # ours from now on; the pool makes another when it needs one
        slot = Slot(connection, self._generation)
        self._local.slot = slot
        with self._lock:
            self._slots.add(slot)
        return slot

    def close_all(self) -> None:
        """Close the connections no thread is using now; the others are replaced next time
        (``engine_disposed``)."""
        with self._lock:
            self._generation += 1
            slots = [slot for slot in self._slots if slot.pid == os.getpid()]
        for slot in slots:
            if not slot.busy:
                self._close(slot)

    @staticmethod
    def _close(slot: Slot) -> None:
        try:
            slot.connection.close()
        except Exception:  # closing what may already be closed or lost: nothing to report
            pass


_PER_THREAD: weakref.WeakKeyDictionary[Engine, PerThreadConnections] = (
    weakref.WeakKeyDictionary()
)
_PER_THREAD_LOCK = threading.Lock()


def per_thread_connections(engine: Engine) -> PerThreadConnections:
    """The per-thread connections of ``engine`` (one set for each engine)."""
    found = _PER_THREAD.get(engine)
    if found is None:
        with _PER_THREAD_LOCK:
            found = _PER_THREAD.get(engine)
            if found is None:
                found = _PER_THREAD[engine] = PerThreadConnections(engine)
    return found
