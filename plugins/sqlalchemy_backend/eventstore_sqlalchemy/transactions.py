"""Which transaction a read or write of the strategy runs in, given the caller's session.

``session`` is any ``Session`` or ``scoped_session`` (for example a web framework's
request-scoped session):

* No transaction open in the session: the call runs in its own short transaction, committed
  at once (rolled back on error, so the session stays usable), on a connection of the
  session's engine: the session itself would add nothing but cost. Writes on SQLite begin
  ``IMMEDIATE``. Busy or deadlocked transactions are run again until ``retry_timeout``.
  Nothing (no snapshot, no lock) is held between calls. (On SQLite and on PostgreSQL with
  psycopg, the strategy's reads and most of its writes take a shorter way in this case, on
  the pool's DB-API connection, with the same transactions or none: see ``direct``.)
* A transaction open in the session, whether the caller began it with ``session.begin()``
  or it was auto-begun by the caller's use of the session: reads and writes happen inside it
  (a write under a SAVEPOINT, so a conflict undoes only that write); the caller's commit makes
  the items durable, together with the caller's other changes. The strategy never commits
  or rolls back a transaction it did not begin.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from . import sqlite
from .retry import retry_transient

R = TypeVar("R")
Work = Callable[[Connection], R]


def run(
    session: Session, table: Table, work: Work[R], *, write: bool, retry_timeout: float
) -> R:
    """Run ``work`` with a connection, in the transaction the rules above choose."""
    transaction = session.get_transaction()
    if transaction is not None:
        return _in_callers_transaction(session, table, work, write)
    bind = session.get_bind(clause=table)
    if isinstance(bind, Engine):
        engine = bind
        return retry_transient(lambda: _on_engine(engine, work, write), retry_timeout)
    # Bound to a Connection (for example a test's outer transaction): go through the session.
    return retry_transient(lambda: _in_session(session, table, work, write), retry_timeout)


def _on_engine(engine: Engine, work: Work[R], write: bool) -> R:
    with sqlite.guarded(engine.dialect.name), engine.connect() as conn:
        if write:
            conn = conn.execution_options(**sqlite.WRITE_OPTIONS)
        with conn.begin():
            return work(conn)


def _in_session(session: Session, table: Table, work: Work[R], write: bool) -> R:
    options = sqlite.WRITE_OPTIONS if write else None
    with sqlite.guarded(_dialect_name(session, table)):
        try:
            result = work(session.connection(_bind_arguments(table), execution_options=options))
            session.commit()
            return result
        except BaseException:
            with contextlib.suppress(sa_exc.SQLAlchemyError):
                session.rollback()
            raise


def _in_callers_transaction(session: Session, table: Table, work: Work[R], write: bool) -> R:
    with sqlite.guarded(_dialect_name(session, table)):
        if not write:
            return work(session.connection(_bind_arguments(table)))
        with session.begin_nested():
            return work(session.connection(_bind_arguments(table)))


def _dialect_name(session: Session, table: Table) -> str:
    return session.get_bind(clause=table).dialect.name


def _bind_arguments(table: Table) -> dict[str, Any]:
    return {"clause": table}
