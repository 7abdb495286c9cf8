"""The insert of a list of items: compiled once per dialect, handed to the driver's executemany.

SQLAlchemy Core's ``connection.execute(insert(table), [dict, ...])`` processes every row in
Python (parameter dicts, type processors, compiled parameter lists): about as much time again
as the database spends storing the rows. Here the ``insert(table)`` statement is compiled once
per dialect, the column types' own bind processors (``Uuid`` to hex text on SQLite, ...) are
applied to the items, and the rows go to ``connection.exec_driver_sql``: still SQLAlchemy's
connection, transaction, events and error handling, without the per-row work.

A table with a global order gets one more column, ``global_position``: consecutive numbers
from the first one the writer took (see ``globalorder``); on SQLite, whose writers take turns,
the insert numbers each row itself, one above the table's highest: where the column is the
rowid (the library's tables) it is left out of the insert (SQLite gives a new row the highest
rowid plus one, with no subquery), elsewhere a subquery computes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count
from typing import Any

from sqlalchemy import Column, Dialect, Table, func, insert, literal_column, select

from .records import GLOBAL_POSITION

RowBuilder = Callable[[Sequence[Any], int], list[Any]]
_NOTHING: Any = object()


class CompiledInsert:
    """``INSERT INTO table (columns) VALUES (...)`` for one dialect, and its row builder.

    ``global_position`` is the table's global position column, if it has a global order;
    ``rowid``: on SQLite, whether that column is the table's rowid (``sqlite.is_rowid``).
    """

    def __init__(
        self,
        table: Table,
        columns: Sequence[Column[Any]],
        dialect: Dialect,
        global_position: Column[Any] | None = None,
        *,
        rowid: bool = False,
    ) -> None:
        keys = [column.key for column in columns]
        statement = insert(table)
        #: Whether the statement gives each row its global position itself (SQLite).
        self.numbers_rows = global_position is not None and dialect.name == "sqlite"
        if self.numbers_rows:
            assert global_position is not None
            if not rowid:  # a plain column: one above the highest, from a subquery
                statement = statement.values({global_position.key: next_global_position(table)})
            global_position = None  # (the rowid: left out, SQLite numbers the row itself)
        all_keys = keys + ([global_position.key] if global_position is not None else [])
        compiled = statement.compile(dialect=dialect, column_keys=all_keys)
        self.sql: str = compiled.string
        processors = row_processors(columns, dialect)
        numbered = global_position is not None
        if dialect.positional:
            order = [all_keys.index(name) for name in compiled.positiontup or ()]
            self.rows = _positional_rows(order, processors, numbered)
        else:
            self.rows = _named_rows(all_keys, processors, numbered)

    def parameters(self, items: Sequence[Any], first_position: int = 0) -> Any:
        """What ``exec_driver_sql`` takes: one row for one item, else a list (executemany).

        Items get the global positions ``first_position``, ``first_position + 1``, ... (if
        the table has a global order).
        """
        rows = self.rows(items, first_position)
        return rows if len(rows) > 1 else rows[0]


def next_global_position(table: Table) -> Any:
    """``(SELECT coalesce(max(global_position), 0) + 1 FROM table)``: one seek to the end of
    the unique index. Right only where writers take turns (SQLite: see ``globalorder``)."""
    column = table.c[GLOBAL_POSITION]
    highest = func.coalesce(func.max(column), literal_column("0"))
    return select(highest + literal_column("1")).scalar_subquery()


def row_processors(columns: Sequence[Column[Any]], dialect: Dialect) -> list[Any]:
    """Each column's bind processor for ``dialect`` (None where values go as they are)."""
    return [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]


def _positional_rows(order: list[int], processors: list[Any], numbered: bool) -> RowBuilder:
    width = len(processors)
    in_order = order == list(range(width + numbered))
    converted = [(index, processors[index]) for index in range(width) if processors[index]]
    if in_order and not converted:
        if numbered:
            return lambda items, first: [(*item, n) for item, n in zip(items, count(first))]
        return lambda items, first: list(items)  # namedtuples are tuples: the items are rows
    if in_order and len(converted) == 1 and converted[0][0] == 0:
        # The common case: only the sequence id is converted (a UUID to hex text on SQLite),
        # once for a run of items of one sequence, as an append usually is.
        convert = converted[0][1]

        def rows(items: Sequence[Any], first: int) -> list[Any]:
            made = []
            last: Any = _NOTHING
            value = None
            for item in items:
                if item[0] is not last:
                    last = item[0]
                    value = convert(last)
                made.append((value, *item[1:]))
            if numbered:
                return [(*row, n) for row, n in zip(made, count(first))]
            return made

        return rows
    convert_row = row_converter(processors)
    if numbered:
        def rows(items: Sequence[Any], first: int) -> list[Any]:
            full = [(*convert_row(item), n) for item, n in zip(items, count(first))]
            return [tuple(row[index] for index in order) for row in full]
        return rows
    return lambda items, first: [
        tuple(row[index] for index in order) for row in map(convert_row, items)
    ]


def _named_rows(keys: list[str], processors: list[Any], numbered: bool) -> RowBuilder:
    spec = list(zip(keys, range(len(processors)), processors, strict=False))
    if numbered:
        number_key = keys[-1]

        def rows(items: Sequence[Any], first: int) -> list[Any]:
            made = []
            for item, n in zip(items, count(first)):
                row = {key: convert(item[i]) if convert else item[i] for key, i, convert in spec}
                row[number_key] = n
                made.append(row)
            return made

        return rows
    return lambda items, first: [
        {key: convert(item[i]) if convert else item[i] for key, i, convert in spec}
        for item in items
    ]


def row_converter(processors: list[Any]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function that applies the processors to an item's values (a tuple in column order)."""
    spec = list(enumerate(processors))
    if not any(processors):
        return tuple
    return lambda item: tuple(
        convert(item[index]) if convert else item[index] for index, convert in spec
    )
