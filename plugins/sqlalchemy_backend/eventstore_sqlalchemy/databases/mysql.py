"""MySQL and MariaDB (PyMySQL, InnoDB): the global order from a counter row per table.

A write transaction first runs ``UPDATE global_position_counters SET last_position =
LAST_INSERT_ID(last_position + n)`` on its table's row and gets the new value back in the same
reply; its items get ``last - n + 1 .. last``. The row lock is held until commit or rollback,
so the next writer of the table takes its positions only once the previous one is over, and
visible: positions are in commit order, without gaps (a rollback gives them back). InnoDB
shows SQL neither a transaction's own id nor the oldest one still running
(``information_schema.innodb_trx`` needs the PROCESS privilege and gives read-only
transactions made-up ids), so PostgreSQL's way (``postgresql``) is not open here: writers of
one table commit one after the other.

MySQL/MariaDB commit any open transaction at a ``CREATE`` or ``DROP``: DDL is refused while a
caller's transaction is open, before anything is touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventstore_core.exceptions import DatastoreError
from sqlalchemy import Table, bindparam, func, literal_column, select, update
from sqlalchemy.dialects import mysql

from ..compiled import CompiledInsert
from ..records import GLOBAL_POSITION, global_position_counters
from . import Appender, Database

COUNTERS = global_position_counters
_DUPLICATE = 1062
_RETRY = (1205, 1213)  # lock wait timeout, deadlock
_NO_SUCH_TABLE, _BAD_FIELD = 1146, 1054


class MySQLAppender(Appender):
    """Positions from the table's counter row, then one ``executemany``."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        gp = self.global_position
        self.insert = CompiledInsert(self.table, self.columns, self.dialect, position=gp)
        if gp is None:
            return
        counter = COUNTERS.c.last_position
        take = (
            update(COUNTERS)
            .where(COUNTERS.c.table_name == bindparam("name"))
            .values(last_position=func.last_insert_id(counter + bindparam("count")))
        )
        compiled = take.compile(dialect=self.dialect)
        self.update_sql = compiled.string
        self.update_names = list(compiled.positiontup or ())
        highest = select(func.coalesce(func.max(gp), literal_column("0"))).compile(
            dialect=self.dialect
        )
        self.highest_sql = highest.string
        add = mysql.insert(COUNTERS).prefix_with("IGNORE").values(
            table_name=bindparam("name"), last_position=bindparam("last")
        ).compile(dialect=self.dialect)
        self.add_sql, self.add_names = add.string, list(add.positiontup or ())

    def append(self, cursor: Any, items: Sequence[Any]) -> int | None:
        first = 0
        if self.global_position is not None:
            first = self._take(cursor, len(items))
        self.insert.execute(cursor, items, first)
        return None

    def _take(self, cursor: Any, count: int) -> int:
        """The first of ``count`` positions, the counter row locked until the transaction
        ends (the table's first write adds its counter row, after what the table holds)."""
        values = {"count": count, "name": self.table.fullname}
        for _attempt in range(2):
            cursor.execute(self.update_sql, self._args(self.update_names, values))
            if cursor.rowcount:
                return int(cursor.lastrowid) - count + 1
            cursor.execute(self.highest_sql)
            last = cursor.fetchone()[0]
            cursor.execute(self.add_sql, self._args(self.add_names, {**values, "last": last}))
        raise RuntimeError(f"no counter row for table {self.table.fullname} after adding it")

    def _args(self, names: list[str], values: dict[str, Any]) -> Any:
        return tuple(values[name] for name in names) if self.dialect.positional else values


class MySQL(Database):
    names = ("mysql", "mariadb")
    appender_class = MySQLAppender
    table_size_sql = (
        "SELECT data_length + index_length FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND table_name = :name"
    )

    @classmethod
    def bounded_connect_args(cls, seconds: float) -> dict[str, Any]:
        """PyMySQL's socket timeouts: a read or write that waits longer is an error (2013,
        the connection lost)."""
        return {"read_timeout": seconds, "write_timeout": seconds}

    def tables_to_create(self, tables: list[Table]) -> list[Table]:
        if any(GLOBAL_POSITION in table.c for table in tables):
            return [COUNTERS, *tables]
        return tables

    def refuse_ddl_in_transaction(self, what: str) -> None:
        raise DatastoreError(
            f"cannot {what} while this thread's session has a transaction open: "
            f"{self.name} would commit that transaction at the first CREATE or DROP; "
            f"call it before the transaction begins or after it ends"
        )

    def _errno(self, error: BaseException) -> int | None:
        args = getattr(error, "args", ())
        return args[0] if isinstance(error, self.dbapi.Error) and args and isinstance(
            args[0], int) else None

    def is_duplicate_key(self, error: BaseException) -> bool:
        return isinstance(error, self.dbapi.IntegrityError) and self._errno(error) == _DUPLICATE

    def is_transient(self, error: BaseException) -> bool:
        return isinstance(error, self.dbapi.OperationalError) and self._errno(error) in _RETRY

    def is_missing_table(self, error: BaseException) -> bool:
        return self._errno(error) == _NO_SUCH_TABLE

    def is_missing_column(self, error: BaseException) -> bool:
        return self._errno(error) == _BAD_FIELD
