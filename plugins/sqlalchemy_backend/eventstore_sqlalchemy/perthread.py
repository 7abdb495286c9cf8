"""SQLite files: one DB-API connection per thread, kept from one call to the next.

Taking a connection from SQLAlchemy's pool and giving it back (the check-out, the queue, the
``rollback`` of reset-on-return, the check-in) is a large part of a short SQLite read. A
SQLite connection is only a file handle and a cache, so where the strategy chooses the
transaction (``direct``), each thread keeps one: made by the pool (so with the engine's
``connect`` set-up: WAL, busy timeout, ``synchronous``), then detached from it and kept in a
thread-local slot.

* A thread's connection is closed when the thread ends (its slot is dropped), when the engine
  is disposed (``engine.dispose()``, ``strategy.close()``), or when it is lost.
* After ``fork()`` the child makes its own: a connection is never used by two processes (the
  parent's are left alone in the child, never closed there, as SQLite asks).
* Only SQLite files: an in-memory database lives in one connection that the pool lends out,
  and a server database has the pool's limits on connections for good reasons.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, event

from . import sqlite


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

    Use: ``slot = connections.acquire()``, then ``slot.connection``; on a driver error
    ``connections.failed(slot, error)``; in every case ``slot.busy = False`` when done.
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

    def failed(self, slot: Slot, error: BaseException) -> None:
        """After a driver error: a lost connection is closed and replaced next time."""
        if self.dialect.is_disconnect(error, slot.connection, None):  # type: ignore[arg-type]
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


_ENGINES: weakref.WeakKeyDictionary[Engine, PerThreadConnections | None] = (
    weakref.WeakKeyDictionary()
)
_NOT_YET: Any = object()
_ENGINES_LOCK = threading.Lock()


def for_engine(engine: Engine) -> PerThreadConnections | None:
    """The per-thread connections of ``engine`` if it is a SQLite file engine, else None."""
    found = _ENGINES.get(engine, _NOT_YET)
    if found is not _NOT_YET:
        return found
    with _ENGINES_LOCK:
        found = _ENGINES.get(engine, _NOT_YET)
        if found is _NOT_YET:
            eligible = engine.dialect.name == "sqlite" and not sqlite.is_memory_database(
                engine.url
            )
            found = _ENGINES[engine] = PerThreadConnections(engine) if eligible else None
    return found
