"""Database settings, connection and tables for the SQLAlchemy backend."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from eventstore_core.exceptions import ConfigurationError
from sqlalchemy import Engine, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from . import databases
from .connections import OwnTransaction, SessionTransaction
from .databases import SERVER_TIMEOUT, Database
from .databases.sqlite import SQLiteOptions
from .engine import create_engine_for, parse_url
from .errors import is_disconnect, transient_on, translate_error
from .records import IntegerSequencedItemRecord

#: The embedded default: a SQLite file in the working directory.
DEFAULT_URI = "sqlite:///eventstore.sqlite3"
#: The environment variable read when no ``uri`` is given.
URI_ENV = "EVENTSTORE_URI"


class SQLAlchemySettings:
    """Where the database is and how to connect to it.

    ``uri`` is a SQLAlchemy database URL; without one, the environment variable
    ``EVENTSTORE_URI`` is read, else the embedded default ``sqlite:///eventstore.sqlite3``.
    For SQLite, ``sqlite_synchronous`` (FULL by default: every commit reaches the disk) and
    ``sqlite_busy_timeout`` (seconds a writer waits for another, retries included) can be
    changed. ``server_timeout`` (seconds, default 60) bounds how long a call waits for a
    PostgreSQL or MySQL/MariaDB server that stops answering (frozen, or a half-open
    connection): then ``DatastoreError``. Any other keyword is passed to
    ``sqlalchemy.create_engine`` (``pool_size``, ``echo``, ...).
    """

    def __init__(
        self,
        uri: str | URL | None = None,
        *,
        sqlite_synchronous: str = "FULL",
        sqlite_busy_timeout: float = 60.0,
        server_timeout: float = SERVER_TIMEOUT,
        **engine_kwargs: Any,
    ) -> None:
        self.uri: str | URL = uri or os.environ.get(URI_ENV) or DEFAULT_URI
        self.url: URL = parse_url(self.uri)
        self.sqlite = SQLiteOptions(
            synchronous=sqlite_synchronous, busy_timeout=sqlite_busy_timeout
        )
        self.server_timeout = float(server_timeout)
        if not self.server_timeout > 0:
            raise ConfigurationError(f"server_timeout must be > 0 seconds, got {server_timeout!r}")
        self.engine_kwargs = engine_kwargs

    def __repr__(self) -> str:
        return f"SQLAlchemySettings(uri={self.url.render_as_string()!r})"


class SQLAlchemyDatastore:
    """Sets up (and tears down) the engine, a thread-scoped session and the tables.

    ``tables`` are active record classes (or ``Table`` objects), by default
    ``(IntegerSequencedItemRecord,)``.
    """

    def __init__(
        self,
        settings: SQLAlchemySettings | None = None,
        tables: Iterable[Any] = (IntegerSequencedItemRecord,),
    ) -> None:
        self.settings = settings or SQLAlchemySettings()
        self.tables: tuple[Any, ...] = tuple(tables)
        self._engine: Engine | None = None
        self._session: scoped_session[Session] | None = None

    @property
    def engine(self) -> Engine:
        """The engine (set up on first use)."""
        if self._engine is None:
            self.setup_connection()
        assert self._engine is not None
        return self._engine

    @property
    def session(self) -> scoped_session[Session]:
        """A thread-scoped session facade: each thread gets its own ``Session``."""
        if self._session is None:
            self.setup_connection()
        assert self._session is not None
        return self._session

    def setup_connection(self) -> None:
        """Create the engine and the scoped session (connections are opened when used)."""
        if self._engine is not None:
            return
        self._engine = create_engine_for(self.settings.url, self.settings)
        self._session = scoped_session(sessionmaker(bind=self._engine))

    def setup_tables(self) -> None:
        """Create the tables that do not exist yet (safe when several processes race).

        On MySQL/MariaDB, tables with a global order come with ``global_position_counters``,
        the table their writers take global positions from (``databases.mysql``).
        """
        tables = self.database.tables_to_create([as_table(t) for t in self.tables])
        self._run_ddl("create", tables, lambda table, conn: table.create(conn, checkfirst=True))

    def drop_tables(self) -> None:
        """Drop the tables (those that exist).

        ``global_position_counters`` is kept, shared by every table with a global order: a
        table created again continues its global positions where they were, so that a
        subscriber's saved position still means what it meant.
        """
        tables = [as_table(t) for t in self.tables]
        self._run_ddl("drop", tables, lambda table, conn: table.drop(conn, checkfirst=True))

    def drop_connection(self) -> None:
        """Close the sessions and every pooled connection."""
        if self._session is not None:
            self._session.remove()
            self._session = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @property
    def database(self) -> Database:
        """What the engine's database does its own way (``databases``)."""
        return databases.for_engine(self.engine)

    def _run_ddl(self, verb: str, tables: list[Table], action: Any) -> None:
        """The DDL in a transaction of its own; or, with a transaction open in this thread's
        session, inside it (under a SAVEPOINT, so a failure leaves the caller's work as it
        was), never committing it, or refused before anything is touched where the database
        would commit it (``Database.refuse_ddl_in_transaction``)."""
        what = f"{verb} tables {', '.join(t.name for t in tables)}"
        database = self.database

        def work(conn: Any) -> None:
            for table in tables:
                action(table, conn)

        session = self._session() if self._session is not None else None
        failures = 0

        def should_retry(error: BaseException) -> bool:
            # Busy or deadlocked: until the timeout. Two processes creating one table at once
            # (the loser sees it exists next time): twice more.
            nonlocal failures
            failures += 1
            if transient(error):
                return True
            return isinstance(error, sa_exc.DBAPIError) and not is_disconnect(error) and (
                failures < 3
            )

        transient = transient_on(database)
        try:
            if session is not None and session.in_transaction():
                database.refuse_ddl_in_transaction(what)
                SessionTransaction(session, None, database).core(work, write=True)
            else:
                OwnTransaction(self.engine, database).core(
                    work, write=True, should_retry=should_retry
                )
        except sa_exc.DBAPIError as error:
            raise translate_error(error, what, self.settings.url, database) from error

    def __repr__(self) -> str:
        return f"SQLAlchemyDatastore(settings={self.settings!r}, tables={self.tables!r})"


def as_table(record: Any) -> Table:
    """The ``Table`` of an active record class (or the ``Table`` itself)."""
    table = getattr(record, "__table__", record)
    if not isinstance(table, Table):
        raise TypeError(f"expected an active record class or a Table, got {record!r}")
    return table
