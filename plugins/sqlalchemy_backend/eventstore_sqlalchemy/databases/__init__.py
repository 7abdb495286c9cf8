"""What each database does differently, one module per database, and the one lookup.

Everything that depends on which database it is lives in ``sqlite``, ``postgresql`` or
``mysql`` (MySQL and MariaDB), in a subclass of ``Database``: the engine's set-up, how a
transaction begins, how items are appended and given their global positions, where readers
of the global order stop, which driver errors mean what, what DDL may do inside a caller's
transaction, and the size of a table. Every other module asks ``for_dialect(dialect)`` (or
``database_class(name)`` before an engine exists) and never tests a database's name.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from eventstore_core.exceptions import ConfigurationError
from sqlalchemy import Column, Connection, Dialect, Engine, Select, Table
from sqlalchemy.engine import URL

#: ``read_one(statement, params)``: the first row of a select, on the operation's source.
ReadOne = Callable[[Any, dict[str, Any]], Any]
#: Seconds to wait for a database server to answer a connection before ``DatastoreError``.
CONNECT_TIMEOUT = 10
#: Seconds a call waits, at most, for a server that stops answering (``server_timeout``).
SERVER_TIMEOUT = 60.0
#: A context manager that does nothing (the guard of databases that need none).
NO_GUARD: contextlib.AbstractContextManager[None] = contextlib.nullcontext()


class NoDeadline:
    """The deadline of a call on a database whose driver bounds its own waits."""

    expired = False
    seconds = 0.0

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None


NO_DEADLINE = NoDeadline()


class Appender:
    """Appends items to one table: statements compiled once, run on a DB-API cursor.

    ``append`` returns the last global position written where readers must wait for it
    (PostgreSQL), else None. ``alone(items)``: whether the append is one statement that may
    run as its own transaction (autocommit) where the strategy chooses the transaction.
    """

    def __init__(
        self,
        table: Table,
        columns: Sequence[Column[Any]],
        global_position: Column[Any] | None,
        dialect: Dialect,
    ) -> None:
        self.table, self.columns, self.global_position = table, columns, global_position
        self.dialect = dialect

    def alone(self, items: Sequence[Any]) -> bool:
        return False

    def append(self, cursor: Any, items: Sequence[Any]) -> int | None:
        raise NotImplementedError


class Database:
    """The behaviour of one database; the base holds what most of them share."""

    #: The names of ``Dialect.name`` this module serves.
    names: ClassVar[tuple[str, ...]] = ()
    #: The ``Appender`` subclass for this database.
    appender_class: ClassVar[type[Appender]] = Appender
    #: Whether reads switch the DB-API connection to autocommit (one statement, no
    #: ``BEGIN``/``COMMIT`` round trips).
    switch_autocommit: ClassVar[bool] = False
    #: Execution options of a SQLAlchemy ``Connection`` that will write.
    write_options: ClassVar[dict[str, Any]] = {}
    #: The statement giving a table's size in bytes (``:name``), or None.
    table_size_sql: ClassVar[str | None] = None
    #: Whether ``table_size`` is the size of the whole database (SQLite's file).
    size_is_the_whole_database: ClassVar[bool] = False

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.name = dialect.name
        #: The driver's DB-API module (its exception classes).
        self.dbapi: Any = dialect.loaded_dbapi
        #: Entered around every transaction of this backend on this database.
        self.guard: contextlib.AbstractContextManager[Any] = NO_GUARD
        #: The longest a call waits for the server (``configure_engine`` sets it).
        self.server_timeout = SERVER_TIMEOUT
        #: The longest a busy or deadlocked transaction is run again, if less than the
        #: strategy's ``retry_timeout`` (SQLite: its busy timeout).
        self.retry_bound: float | None = None

    # -- engines and connections ------------------------------------------------------
    @classmethod
    def engine_arguments(
        cls, url: URL, settings: Any, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """``create_engine`` keyword arguments (the caller's own take precedence): for a
        server, a connect timeout and the driver's own bounds (``bounded_connect_args``)."""
        connect_args = dict(kwargs.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", min(CONNECT_TIMEOUT, settings.server_timeout))
        for name, value in cls.bounded_connect_args(settings.server_timeout).items():
            connect_args.setdefault(name, value)
        return {**kwargs, "connect_args": connect_args}

    @classmethod
    def bounded_connect_args(cls, seconds: float) -> dict[str, Any]:
        """The driver's options that make a silent server an error after ``seconds``."""
        return {}

    @classmethod
    def configure_engine(cls, engine: Engine, settings: Any) -> None:
        """Set up a new engine (event listeners)."""
        for_dialect(engine.dialect).server_timeout = settings.server_timeout

    def bounded(self, dbapi_connection: Any) -> Any:
        """Entered around each call on ``dbapi_connection``: ends it if the server has not
        answered within ``server_timeout`` (where the driver cannot do it itself); its
        ``expired`` tells whether it did."""
        return NO_DEADLINE

    def shared_between_processes(self, url: URL) -> bool:
        """Whether other processes can reach the database at ``url``."""
        return True

    def per_thread_connections(self, url: URL) -> bool:
        """Whether each thread keeps a DB-API connection of its own (``connections``)."""
        return False

    def begin(self, dbapi_connection: Any) -> None:
        """Begin a write transaction on a DB-API connection (implicit by default: the
        driver's first statement begins it)."""

    # -- writing ------------------------------------------------------------------------
    def appender(
        self, table: Table, columns: Sequence[Column[Any]], global_position: Column[Any] | None
    ) -> Appender:
        return self.appender_class(table, columns, global_position, self.dialect)

    # -- reading the global order -----------------------------------------------------
    def read_all_statement(self, statement: Select[Any], global_position: Column[Any]) -> Any:
        """The ``read_all`` select, limited to what readers may see."""
        return statement

    def wait_for_own_write(
        self, read_one: ReadOne, global_position: Column[Any], position: int
    ) -> bool:
        """Wait until ``read_all`` can return this strategy's write at ``position``; whether
        the wait is over for good (the base: nothing to wait for)."""
        return True

    def listener(self, engine: Engine, table: Table) -> Any:
        """What ``wait_for_items`` waits on (None: it polls)."""
        return None

    def wait_below_horizon(
        self, read_one: ReadOne, global_position: Column[Any], after: int, deadline: float
    ) -> None:
        """After a notification: wait until what was committed above ``after`` can be read
        (at most until ``deadline``, a ``time.monotonic()``)."""

    # -- tables -------------------------------------------------------------------------
    def tables_to_create(self, tables: list[Table]) -> list[Table]:
        return tables

    def refuse_ddl_in_transaction(self, what: str) -> None:
        """Raise ``DatastoreError`` where DDL cannot run inside an open transaction."""

    def table_size(self, conn: Connection, table: Table) -> int | None:
        if self.table_size_sql is None:
            return None
        from sqlalchemy import text

        size = conn.execute(text(self.table_size_sql), {"name": table.name}).scalar()
        return None if size is None else int(size)

    # -- driver errors (the driver's own exception, not SQLAlchemy's wrapper) ------------
    def is_duplicate_key(self, error: BaseException) -> bool:
        return False

    def is_transient(self, error: BaseException) -> bool:
        """Busy, deadlocked, serialization failure: the whole transaction may run again."""
        return False

    def is_busy(self, error: BaseException) -> bool:
        """Another connection kept the database locked for longer than it waits."""
        return False

    def is_missing_table(self, error: BaseException) -> bool:
        return False

    def is_missing_column(self, error: BaseException) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} database {self.name}>"


def _classes() -> dict[str, type[Database]]:
    from . import mysql, postgresql, sqlite

    return {
        name: cls
        for cls in (sqlite.SQLite, postgresql.PostgreSQL, mysql.MySQL)
        for name in cls.names
    }


_BY_NAME: dict[str, type[Database]] = {}
_BY_DIALECT: weakref.WeakKeyDictionary[Dialect, Database] = weakref.WeakKeyDictionary()


def database_class(name: str) -> type[Database]:
    """The ``Database`` subclass of a dialect name (``URL.get_backend_name()``)."""
    if not _BY_NAME:
        _BY_NAME.update(_classes())
    found = _BY_NAME.get(name)
    if found is None:
        raise ConfigurationError(
            f"database {name!r} is not supported by the sqlalchemy backend: use SQLite, "
            f"PostgreSQL or MySQL/MariaDB"
        )
    return found


def for_dialect(dialect: Dialect) -> Database:
    """The ``Database`` of an engine's dialect (one for each dialect object)."""
    found = _BY_DIALECT.get(dialect)
    if found is None:
        found = _BY_DIALECT[dialect] = database_class(dialect.name)(dialect)
    return found


def for_engine(engine: Engine | Connection) -> Database:
    return for_dialect(engine.dialect)
