"""Reads and writes on a pooled DB-API connection, where the strategy chooses the transaction.

Through SQLAlchemy's ``Connection`` a read costs a pool check-out, the ``begin`` event (its
``BEGIN``), the statement's execution context and a ``COMMIT``: on SQLite several times what
the database spends on a read of ten rows, and on PostgreSQL three round trips (``BEGIN``,
``SELECT``, ``COMMIT``) where one would do. Where the strategy is free to choose (no
transaction open in the caller's session, see ``transactions``), it goes to the DB-API
connection checked out of the engine's pool instead, with SQL compiled once per dialect and
the column types' own conversions:

* a read is one statement outside any explicit transaction: a single ``SELECT`` sees one
  consistent state of the database on its own (SQLite in autocommit mode, which is how this
  backend's SQLite connections are set up; PostgreSQL switched to autocommit for the
  statement). psycopg prepares a statement a connection has run a few times, so a repeated
  read is one round trip with no parsing or planning;
* on SQLite a write is ``BEGIN IMMEDIATE``, the insert (``executemany`` for a list), ``COMMIT``;
* on PostgreSQL the append of one item is one statement in autocommit mode, its own
  transaction (lists go through ``COPY`` in a transaction, as before).

Still the pool (and its handling of ``fork()``), ``sqlite.FORK_GUARD``, and the driver's own
errors, which ``errors`` reads as it reads them inside SQLAlchemy's wrappers; a connection
lost is invalidated, not put back in the pool. Only SQLite (``pysqlite``) and PostgreSQL
(``psycopg``) take this path; other databases and drivers run as before (``transactions``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Dialect, Engine, Select

from . import perthread, postgres, sqlite
from .errors import wrap

R = TypeVar("R")

#: (dialect name, driver) pairs that run directly on the DB-API connection.
DIRECT_DRIVERS = (("sqlite", "pysqlite"), ("postgresql", "psycopg"))


def runs_directly(engine: Engine) -> bool:
    """Whether ``engine``'s database and driver take this path (see the docstring)."""
    dialect = engine.dialect
    return (dialect.name, dialect.driver) in DIRECT_DRIVERS


class CompiledSelect:
    """A select compiled for one dialect: its SQL, how to pass its parameters, and the
    conversions of the values it returns."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        # Each parameter of the SQL: its name, its value unless given (SQLite's OFFSET of a
        # LIMIT, which the compiler adds), and its type's conversion.
        binds = [
            (name, bind.value, _bind_processor(bind.type, dialect))
            for bind, name in compiled.bind_names.items()
        ]
        self.parameters: Callable[[Mapping[str, Any]], Any]
        if compiled.positiontup is not None:
            by_name = {bind[0]: bind for bind in binds}
            self.parameters = _positional([by_name[name] for name in compiled.positiontup])
        else:
            self.parameters = _named(binds)
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]
        self.convert_row = _row_converter(processors)


def fetch(engine: Engine, compiled: CompiledSelect, params: Mapping[str, Any]) -> list[Any]:
    """The rows of ``compiled`` with ``params``, read on a DB-API connection of ``engine``'s
    pool outside any transaction. Driver errors are raised as the driver raised them."""
    parameters = compiled.parameters(params)
    rows = _alone(engine, compiled.sql, parameters, lambda cursor: list(cursor.fetchall()))
    convert = compiled.convert_row
    return rows if convert is None else [convert(row) for row in rows]


def execute(engine: Engine, sql: str, parameters: Any) -> tuple[int, Any]:
    """PostgreSQL: run one statement as its own transaction (autocommit); its rowcount and
    the first row it returned (None if it returns none)."""
    found: tuple[int, Any] = _alone(
        engine, sql, parameters,
        lambda cursor: (cursor.rowcount, cursor.fetchone() if cursor.description else None),
    )
    return found


class Borrowed:
    """A DB-API connection for one call: this thread's own for a SQLite file (``perthread``),
    else one checked out of ``engine``'s pool and given back after. A connection lost on a
    driver error is closed, never used again (as SQLAlchemy does). A plain context manager:
    it is on every read and write of the strategy's short way."""

    __slots__ = ("engine", "connections", "slot", "pooled", "dbapi_connection")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connections = perthread.for_engine(engine)

    def __enter__(self) -> Any:
        if self.connections is not None:
            self.slot = self.connections.acquire()
            self.dbapi_connection = self.slot.connection
        else:
            self.pooled = self.engine.raw_connection()
            self.dbapi_connection = self.pooled.dbapi_connection
        return self.dbapi_connection

    def __exit__(self, _kind: object, error: BaseException | None, _trace: object) -> None:
        dialect = self.engine.dialect
        driver_failed = isinstance(error, dialect.loaded_dbapi.Error)
        try:
            if driver_failed:
                assert error is not None
                if self.connections is not None:
                    self.connections.failed(self.slot, error)
                elif dialect.is_disconnect(error, self.dbapi_connection, None):  # type: ignore[arg-type]
                    self.pooled.invalidate(error)  # closed, not back to the pool
        finally:
            if self.connections is not None:
                self.slot.busy = False
            else:
                self.pooled.close()  # back to the pool
        if driver_failed:
            assert error is not None
            raise wrap(error, dialect) from error  # as SQLAlchemy would have raised it


def _alone(engine: Engine, sql: str, parameters: Any, result: Callable[[Any], R]) -> R:
    """Run one statement outside any explicit transaction on a ``Borrowed`` connection;
    ``result`` reads the cursor."""
    with sqlite.guarded(engine.dialect.name), Borrowed(engine) as dbapi_connection:
        # psycopg: the statement alone, in autocommit mode, no BEGIN ... COMMIT around it.
        switch = getattr(dbapi_connection, "autocommit", None) is False
        if switch:
            dbapi_connection.autocommit = True
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(sql, parameters)
                return result(cursor)
            finally:
                cursor.close()
        finally:
            if switch and not dbapi_connection.closed:
                dbapi_connection.autocommit = False


def copy_postgres(
    engine: Engine,
    take: tuple[str, Any] | None,
    count: int,
    copy: Callable[[Any, int], None],
) -> None:
    """PostgreSQL: one transaction on a ``Borrowed`` connection: ``take``
    (``postgres.TakePositions``: the first of ``count`` new global positions; None for a
    table without a global order), then ``copy(cursor, first_position)``, ``COMMIT``."""
    with Borrowed(engine) as dbapi_connection:
        try:
            with dbapi_connection.cursor() as cursor:
                first = 0
                if take is not None:
                    cursor.execute(*take)
                    base, free, _notified = cursor.fetchone()
                    first = postgres.first_position(base, free, count)
                copy(cursor, first)
            dbapi_connection.commit()
        except BaseException:
            if not dbapi_connection.closed:
                dbapi_connection.rollback()
            raise


def write_sqlite(engine: Engine, sql: str, parameters: Any) -> None:
    """SQLite: ``BEGIN IMMEDIATE``, the insert (``executemany`` for a list of rows), ``COMMIT``,
    on a ``Borrowed`` connection; rolled back on any error."""
    with sqlite.FORK_GUARD.section(), Borrowed(engine) as dbapi_connection:
        dbapi_connection.execute("BEGIN IMMEDIATE")
        try:
            if isinstance(parameters, list):
                dbapi_connection.executemany(sql, parameters)
            else:
                dbapi_connection.execute(sql, parameters)
            dbapi_connection.commit()
        except BaseException:
            dbapi_connection.rollback()
            raise


Binds = list[tuple[str, Any, Any]]


def _bind_processor(type_: Any, dialect: Dialect) -> Any:
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _positional(binds: Binds) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    def parameters(params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = []
        for name, default, convert in binds:
            value = params.get(name, default)
            values.append(convert(value) if convert is not None and value is not None else value)
        return tuple(values)

    return parameters


def _named(binds: Binds) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def parameters(params: Mapping[str, Any]) -> dict[str, Any]:
        values = {}
        for name, default, convert in binds:
            value = params.get(name, default)
            values[name] = convert(value) if convert is not None and value is not None else value
        return values

    return parameters


def _row_converter(processors: list[Any]) -> Callable[[Any], tuple[Any, ...]] | None:
    """A function converting a row's values with the processors (None if none converts)."""
    if not any(processors):
        return None
    spec = list(enumerate(processors))
    return lambda row: tuple(
        convert(row[index]) if convert is not None else row[index] for index, convert in spec
    )
