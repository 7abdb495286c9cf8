"""PostgreSQL's fast path: a list of items goes in through ``COPY`` (psycopg 3).

``COPY ... FROM STDIN`` streams all rows in one statement, in the binary format where psycopg
knows every column's type (W1 in ``docs/benchmarks.md`` sets it beside the raw driver's
``COPY`` and ``executemany``). It runs on the same DBAPI connection as the SQLAlchemy
``Connection``, so it is part of the same transaction, and a taken position fails it with the
same unique violation as an ``INSERT``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from eventstore_core.exceptions import InvalidEventError
from sqlalchemy import Column, Connection, Dialect, Table, text

from .errors import wrap
from .inserts import row_converter, row_processors


@dataclass(frozen=True)
class CopyStatement:
    """``COPY table (columns) FROM STDIN``, binary when psycopg knows every column's type."""

    sql: str
    types: list[str] | None  # PostgreSQL type names for the binary format, else None (text)
    #: Converts an item to the values of its row (None: the item's values go as they are).
    convert: Callable[[Sequence[Any]], tuple[Any, ...]] | None = None
    #: Whether a global position follows the item's own values in each row.
    numbered: bool = False

    @classmethod
    def for_table(
        cls,
        dialect: Dialect,
        driver_connection: Any,
        table: Table,
        columns: Sequence[Column[Any]],
        global_position: Column[Any] | None = None,
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


def can_copy(connection: Connection) -> bool:
    """Whether ``connection`` is PostgreSQL through psycopg 3 (which has ``cursor.copy``)."""
    dialect = connection.dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def copy_items(
    connection: Connection,
    statement: CopyStatement,
    items: Sequence[Any],
    first_position: int = 0,
) -> None:
    """Write ``items`` with one ``COPY`` statement in ``connection``'s transaction."""
    dbapi_connection: Any = connection.connection.driver_connection
    try:
        with dbapi_connection.cursor() as cursor:
            write_rows(cursor, statement, items, first_position)
    except BaseException as error:
        if getattr(dbapi_connection, "closed", False):
            connection.invalidate()  # lost: let the pool replace it
        wrapped = wrap(error, connection.dialect)
        if wrapped is error:
            raise
        raise wrapped from error


def write_rows(
    cursor: Any, statement: CopyStatement, items: Sequence[Any], first_position: int = 0
) -> None:
    """``COPY`` the ``items`` (tuples in column order) on a psycopg cursor.

    With a global order, the items get the positions ``first_position``, ``+ 1``, ...
    """
    rows: Any = items if statement.convert is None else map(statement.convert, items)
    if statement.numbered:
        rows = ((*row, n) for row, n in zip(rows, count(first_position)))
    with cursor.copy(statement.sql) as copy:
        if statement.types is not None:
            copy.set_types(statement.types)
        write_row = copy.write_row
        for row in rows:
            write_row(row)


#: Bits of a global position below the transaction id: how many items one transaction may
#: append (65,536), and xid8 values up to 2**47 (140 trillion transactions) fit in a BIGINT.
TRANSACTION_BITS = 16
ITEMS_PER_TRANSACTION = 1 << TRANSACTION_BITS
#: The lowest global position any transaction still running can write: readers stop below it.
HORIZON_SQL = f"(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << {TRANSACTION_BITS})"


class TakePositions:
    """The first free global position of the current transaction, and its notification.

    A transaction's positions are its id (``pg_current_xact_id()``, a 64-bit xid8 that never
    wraps) shifted left by ``TRANSACTION_BITS``, plus 0, 1, 2, ... for its items: one probe of
    the unique index finds how many the transaction has written already (a caller's
    transaction may append more than once). Nothing is locked, so writers of one table commit
    side by side; readers stop below ``HORIZON_SQL`` (see ``globalorder``). The
    ``pg_notify`` is queued by the statement and sent at commit.
    """

    def __init__(self, table: Table, global_position: Column[Any], dialect: Dialect) -> None:
        preparer = dialect.identifier_preparer
        name, column = preparer.format_table(table), preparer.quote(global_position.name)
        bits, size = TRANSACTION_BITS, ITEMS_PER_TRANSACTION
        #: Selects ``base`` (the transaction's lowest position), ``first`` (its next free one)
        #: and the notification; the ``eventstore_channel`` parameter names the channel.
        self.text = (
            f"SELECT x.base, x.base + coalesce((SELECT max(t.{column}) + 1 - x.base "
            f"FROM {name} t WHERE t.{column} >= x.base AND t.{column} < x.base + {size}), 0) "
            f"AS first, pg_notify(:{_CHANNEL}, '') AS notified "
            f"FROM (SELECT pg_current_xact_id()::text::bigint << {bits} AS base) x"
        )
        self.sql, self._names = _compile(self.text, dialect)

    def parameters(self, channel: str) -> Any:
        return _parameters(self._names, {_CHANNEL: channel})


def first_position(base: int, first: int, count: int) -> int:
    """``first``, if ``count`` more items fit in the transaction's positions; else the error."""
    if first + count > base + ITEMS_PER_TRANSACTION:
        raise InvalidEventError(
            f"one transaction may append at most {ITEMS_PER_TRANSACTION:,} items to a table "
            f"with a global order on PostgreSQL; this one has {first - base:,} and adds "
            f"{count:,}: append them in several transactions"
        )
    return first


class NumberedInsert:
    """One item and its global position in one statement, the common append of one event.

    ``WITH taken AS (TakePositions ...) INSERT INTO table (..., global_position) SELECT ...,
    first FROM taken WHERE first < base + ITEMS_PER_TRANSACTION RETURNING global_position``:
    one round trip. No row is inserted (``rowcount`` 0) when the transaction's positions are
    used up.
    """

    def __init__(
        self,
        table: Table,
        columns: Sequence[Column[Any]],
        global_position: Column[Any],
        channel: str,
        dialect: Dialect,
    ) -> None:
        preparer = dialect.identifier_preparer
        names = ", ".join(preparer.quote(column.name) for column in (*columns, global_position))
        values = ", ".join(
            f"CAST(:{column.key} AS {column.type.compile(dialect=dialect)})" for column in columns
        )
        take = TakePositions(table, global_position, dialect).text
        self.sql, self._names = _compile(
            f"WITH taken AS ({take}) INSERT INTO {preparer.format_table(table)} ({names}) "
            f"SELECT {values}, taken.first FROM taken "
            f"WHERE taken.first < taken.base + {ITEMS_PER_TRANSACTION} "
            f"RETURNING {preparer.quote(global_position.name)}",
            dialect,
        )
        keys = [column.key for column in columns]
        self._spec = list(zip(keys, row_processors(columns, dialect), strict=True))
        self._fixed = {_CHANNEL: channel}

    def parameters(self, item: Sequence[Any]) -> Any:
        params = dict(self._fixed)
        for (key, convert), value in zip(self._spec, item, strict=False):
            params[key] = convert(value) if convert else value
        return _parameters(self._names, params)


_CHANNEL = "eventstore_channel"


def _compile(sql: str, dialect: Dialect) -> tuple[str, list[str] | None]:
    """``sql`` with ``:name`` parameters in the driver's own style, and the order of the
    names where the style is positional."""
    compiled = text(sql).compile(dialect=dialect)
    return compiled.string, list(compiled.positiontup or ()) if dialect.positional else None


def _parameters(names: list[str] | None, values: dict[str, Any]) -> Any:
    return values if names is None else tuple(values[name] for name in names)
