"""What ``eventstore info`` shows of a SQL store: its table, counts and size on disk.

Counts are one ``SELECT`` each. The size is what each database tells
(``Database.table_size``): SQLite the size of its file (pages times page size), PostgreSQL
``pg_total_relation_size`` of the table (its indexes and TOAST included), MySQL/MariaDB the
table's data and index length in ``information_schema``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Table, func, select

from .databases import Database


def describe(conn: Connection, table: Table, sequence_id: Column[Any],
             global_position: Column[Any] | None, database: Database) -> dict[str, Any]:
    """The ``describe()`` dict of ``eventstore_core.cli.stores.Describable``."""
    columns: list[Any] = [func.count(), func.count(sequence_id.distinct())]
    if global_position is not None:
        columns.append(func.max(global_position))
    row = conn.execute(select(*columns).select_from(table)).one()
    items, sequences = int(row[0]), int(row[1])
    entry: dict[str, Any] = {"name": table.name, "rows": items}
    described: dict[str, Any] = {
        "backend": f"sqlalchemy ({database.name})",
        "items": items,
        "sequences": sequences,
        "tables": [entry],
    }
    if global_position is not None:
        described["global_position"] = int(row[2] or 0)
    size = database.table_size(conn, table)
    if size is not None:
        described["size_bytes"] = size
        if not database.size_is_the_whole_database:
            entry["bytes"] = size
    return described
