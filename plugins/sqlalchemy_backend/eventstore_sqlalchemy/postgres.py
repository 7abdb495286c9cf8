"""PostgreSQL's fast path: a list of items goes in through ``COPY`` (psycopg 3).

``COPY ... FROM STDIN`` streams all rows in one statement: measured here at 100 items a call,
about twice as fast as ``executemany``, and the binary format a little faster again than text.
It runs on the same DBAPI connection as the SQLAlchemy ``Connection``, so it is part of the
same transaction, and a taken position fails it with the same unique violation as an
``INSERT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Table


@dataclass(frozen=True)
class CopyStatement:
    """``COPY table (columns) FROM STDIN``, binary when psycopg knows every column's type."""

    sql: str
    types: list[str] | None  # PostgreSQL type names for the binary format, else None (text)

    @classmethod
    def for_table(
        cls, connection: Connection, table: Table, columns: Sequence[Column[Any]]
    ) -> CopyStatement:
        dialect = connection.dialect
        preparer = dialect.identifier_preparer
        names = ", ".join(preparer.quote(column.name) for column in columns)
        sql = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
        types = [
            column.type.compile(dialect=dialect).split("(")[0].strip().lower()
            for column in columns
        ]
        registry = connection.connection.driver_connection.adapters.types  # type: ignore[union-attr]
        if all(registry.get(name) is not None for name in types):
            return cls(sql + " (FORMAT BINARY)", types)
        return cls(sql, None)


def can_copy(connection: Connection) -> bool:
    """Whether ``connection`` is PostgreSQL through psycopg 3 (which has ``cursor.copy``)."""
    dialect = connection.dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def copy_items(connection: Connection, statement: CopyStatement, items: Sequence[Any]) -> None:
    """Write ``items`` (tuples in column order) with one ``COPY`` statement."""
    dbapi_connection: Any = connection.connection.driver_connection
    try:
        with dbapi_connection.cursor() as cursor, cursor.copy(statement.sql) as copy:
            if statement.types is not None:
                copy.set_types(statement.types)
            write_row = copy.write_row
            for item in items:
                write_row(item)
    except BaseException:
        if getattr(dbapi_connection, "closed", False):
            connection.invalidate()  # lost: let the pool replace it
        raise
