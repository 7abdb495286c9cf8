"""Statements compiled once per dialect, with the column types' own conversions.

SQLAlchemy Core's ``connection.execute(statement, [dict, ...])`` processes every row in Python
(parameter dicts, type processors, compiled parameter lists): on a short read or an append of
a few items, more time than the database spends. Here a statement is compiled once per
dialect, its bind and result processors (``Uuid`` to hex text on SQLite, ...) are looked up
once, and the SQL goes to the driver's own cursor (``executemany`` for a list of rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import count
from typing import Any

from sqlalchemy import Column, Dialect, Select, Table, insert, text

RowBuilder = Callable[[Sequence[Any], int], list[Any]]
_NOTHING: Any = object()


class CompiledInsert:
    """``INSERT INTO table (columns) VALUES (...)`` for one dialect, and its row builder.

    ``numbered``: each row gets a global position after the item's own values (the
    ``position`` column, the last key). ``values``: columns the statement computes itself
    (SQLite's global position from a subquery).
    """

    def __init__(
        self,
        table: Table,
        columns: Sequence[Column[Any]],
        dialect: Dialect,
        position: Column[Any] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        keys = [column.key for column in columns]
        statement = insert(table)
        if values:
            statement = statement.values(dict(values))
        all_keys = keys + ([position.key] if position is not None else [])
        compiled = statement.compile(dialect=dialect, column_keys=all_keys)
        self.sql: str = compiled.string
        processors = row_processors(columns, dialect)
        numbered = position is not None
        if dialect.positional:
            order = [all_keys.index(name) for name in compiled.positiontup or ()]
            self.rows = _positional_rows(order, processors, numbered)
        else:
            self.rows = _named_rows(all_keys, processors, numbered)

    def execute(self, cursor: Any, items: Sequence[Any], first_position: int = 0) -> None:
        """Insert ``items`` on a DB-API cursor: ``execute`` for one, ``executemany`` for more.

        Items get the global positions ``first_position``, ``first_position + 1``, ... (if
        numbered)."""
        rows = self.rows(items, first_position)
        if len(rows) == 1:
            cursor.execute(self.sql, rows[0])
        else:
            cursor.executemany(self.sql, rows)


class CompiledSelect:
    """A select compiled for one dialect: its SQL, how to pass its parameters, and the
    conversions of the values it returns."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        # Each parameter of the SQL: its name, its value unless given (SQLite's OFFSET of a
        # LIMIT, which the compiler adds), and its type's conversion.
        binds = [
            (name, bind.value, bind.type.dialect_impl(dialect).bind_processor(dialect))
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
        self.convert_row = row_converter(processors) if any(processors) else None

    def fetch(self, cursor: Any, params: Mapping[str, Any]) -> list[Any]:
        """The rows for ``params``, read on a DB-API cursor, as the driver gives them."""
        cursor.execute(self.sql, self.parameters(params))
        return cursor.fetchall()  # type: ignore[no-any-return]

    def convert(self, rows: list[Any]) -> list[Any]:
        """``rows`` with the column types' conversions applied."""
        convert = self.convert_row
        return rows if convert is None else [convert(row) for row in rows]


class CompiledText:
    """Textual SQL with ``:name`` parameters, in the driver's own parameter style."""

    def __init__(self, sql: str, dialect: Dialect) -> None:
        compiled = text(sql).compile(dialect=dialect)
        self.sql: str = compiled.string
        self.names = list(compiled.positiontup or ()) if dialect.positional else None

    def parameters(self, values: Mapping[str, Any]) -> Any:
        if self.names is None:
            return values
        return tuple(values[name] for name in self.names)


def row_processors(columns: Sequence[Column[Any]], dialect: Dialect) -> list[Any]:
    """Each column's bind processor for ``dialect`` (None where values go as they are)."""
    return [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]


def row_converter(processors: list[Any]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function that applies the processors to an item's values (a tuple in column order)."""
    spec = list(enumerate(processors))
    if not any(processors):
        return tuple
    return lambda item: tuple(
        convert(item[index]) if convert else item[index] for index, convert in spec
    )


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
        def numbered_rows(items: Sequence[Any], first: int) -> list[Any]:
            full = [(*convert_row(item), n) for item, n in zip(items, count(first))]
            return [tuple(row[index] for index in order) for row in full]
        return numbered_rows
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


Binds = list[tuple[str, Any, Any]]


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
