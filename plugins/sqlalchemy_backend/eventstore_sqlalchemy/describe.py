"""What ``eventstore info`` shows of a SQL store: its table, counts and size on disk.

Counts are one ``SELECT`` each. The size is what each database tells: SQLite the size of its
file (pages times page size), PostgreSQL ``pg_total_relation_size`` of the table (its indexes
and TOAST included), MySQL/MariaDB the table's data and index length in
``information_schema``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Table, func, select, text

#: dialect name -> a statement giving the table's size in bytes (``:name`` the table's name)
TABLE_SIZE = {
    "postgresql": "SELECT pg_total_relation_size(CAST(:name AS regclass))",
    "mysql": (
        "SELECT data_length + index_length FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND table_name = :name"
    ),
}


def describe(conn: Connection, table: Table, sequence_id: Column[Any],
             global_position: Column[Any] | None) -> dict[str, Any]:
    """The ``describe()`` dict of ``eventstore_core.cli.stores.Describable``."""
    dialect = conn.dialect.name
    columns: list[Any] = [func.count(), func.count(sequence_id.distinct())]
    if global_position is not None:
        columns.append(func.max(global_position))
    row = conn.execute(select(*columns).select_from(table)).one()
    items, sequences = int(row[0]), int(row[1])
    entry: dict[str, Any] = {"name": table.name, "rows": items}
    described: dict[str, Any] = {
        "backend": f"sqlalchemy ({dialect})",
        "items": items,
        "sequences": sequences,
        "tables": [entry],
    }
    if global_position is not None:
        described["global_position"] = int(row[2] or 0)
    if dialect in TABLE_SIZE:
        size = conn.execute(text(TABLE_SIZE[dialect]), {"name": table.name}).scalar()
        if size is not None:
            entry["bytes"] = described["size_bytes"] = int(size)
    elif dialect == "sqlite":
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar()
        if pages is not None and page_size is not None:
            described["size_bytes"] = int(pages) * int(page_size)
    return described
