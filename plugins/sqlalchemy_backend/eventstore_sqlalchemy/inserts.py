"""The insert of a list of items: compiled once per dialect, handed to the driver's executemany.

SQLAlchemy Core's ``connection.execute(insert(table), [dict, ...])`` processes every row in
Python (parameter dicts, type processors, compiled parameter lists): about as much time again
as the database spends storing the rows. Here the ``insert(table)`` statement is compiled once
per dialect, the column types' own bind processors (``Uuid`` to hex text on SQLite, ...) are
applied to the items, and the rows go to ``connection.exec_driver_sql``: still SQLAlchemy's
connection, transaction, events and error handling, without the per-row work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, Dialect, Table, insert

RowBuilder = Callable[[Sequence[Any]], list[Any]]


class CompiledInsert:
    """``INSERT INTO table (columns) VALUES (...)`` for one dialect, and its row builder."""

    def __init__(self, table: Table, columns: Sequence[Column[Any]], dialect: Dialect) -> None:
        keys = [column.key for column in columns]
        compiled = insert(table).compile(dialect=dialect, column_keys=keys)
        self.sql: str = compiled.string
        processors = [
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns
        ]
        if dialect.positional:
            order = [keys.index(name) for name in compiled.positiontup or ()]
            self.rows = _positional_rows(order, processors)
        else:
            self.rows = _named_rows(keys, processors)

    def parameters(self, items: Sequence[Any]) -> Any:
        """What ``exec_driver_sql`` takes: one row for one item, else a list (executemany)."""
        rows = self.rows(items)
        return rows if len(rows) > 1 else rows[0]


def _positional_rows(order: list[int], processors: list[Any]) -> RowBuilder:
    in_order = order == list(range(len(order)))
    converted = [(index, processors[index]) for index in order if processors[index]]
    if in_order and not converted:
        return list  # namedtuples are tuples: the items are the rows
    if in_order and len(converted) == 1 and converted[0][0] == 0:
        convert = converted[0][1]  # the common case: only the sequence id is converted
        return lambda items: [(convert(item[0]), *item[1:]) for item in items]
    spec = [(index, processors[index]) for index in order]
    return lambda items: [
        tuple(convert(item[index]) if convert else item[index] for index, convert in spec)
        for item in items
    ]


def _named_rows(keys: list[str], processors: list[Any]) -> RowBuilder:
    spec = list(zip(keys, range(len(keys)), processors, strict=True))
    return lambda items: [
        {key: convert(item[index]) if convert else item[index] for key, index, convert in spec}
        for item in items
    ]
