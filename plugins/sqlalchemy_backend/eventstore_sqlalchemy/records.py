"""The library's active record classes: one table per kind of sequenced item.

The column names of a record class match the field names of its sequenced item namedtuple, and
(sequence, position) is unique (the primary key, except in SQLite's tables of events, see
``_event_table_args``): the database itself refuses a second item at a taken position, which is
what makes a duplicate a ``ConcurrencyError`` on every database.

The tables of events (``IntegerSequencedItemRecord``, ``StoredEventRecord``,
``TimestampSequencedItemRecord``) also have a ``global_position`` column: every item's place in
the order of commit, unique, which ``read_all`` and catch-up subscriptions follow (see
``databases``). On PostgreSQL and MySQL/MariaDB the counter each table's writers take
positions from is a row of ``global_position_counters``. Snapshot tables have no global
position: snapshots are not followed.

Users with their own declarative ``Base`` can declare their own record classes the same way:
any mapped class (or ``Table``) whose columns are named like the namedtuple's fields works; add
a ``global_position`` column (``BigInteger``, unique, not null) to give it a global order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Dialect,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.schema import ColumnCollectionConstraint

from .timestamps import MicrosecondTimestamp

#: The data column: TEXT, but LONGTEXT on MySQL/MariaDB, whose TEXT holds only 64 KiB.
DataText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

#: Table options: InnoDB with full Unicode on MySQL/MariaDB; SQLite stores the rows of a table
#: without a global position in the primary key's own b-tree (WITHOUT ROWID), so a sequence
#: is read from one contiguous range.
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "sqlite_with_rowid": False,
}

#: The name of the column that holds an item's global position (see ``databases``).
GLOBAL_POSITION = "global_position"


class Base(DeclarativeBase):
    """Declarative base of the library's active record classes."""


def _not_sqlite(
    ddl: Any,
    target: Any,
    bind: Any,
    tables: Any = None,
    state: Any = None,
    *,
    dialect: Dialect,
    compiler: Any = None,
    checkfirst: bool = False,
) -> bool:
    """A ``ddl_if`` condition: every database but SQLite."""
    return dialect.name != "sqlite"


class RowidPrimaryKey(ColumnCollectionConstraint):
    """SQLite only: ``PRIMARY KEY (global_position)``, which makes the column the rowid."""


@compiles(RowidPrimaryKey)
def _compile_rowid_primary_key(element: RowidPrimaryKey, compiler: Any, **_kw: Any) -> str:
    names = ", ".join(compiler.preparer.quote(column.name) for column in element.columns)
    return f"PRIMARY KEY ({names})"


#: The global position column's type: BIGINT, but exactly INTEGER on SQLite (a rowid).
GlobalPositionType = BigInteger().with_variant(Integer(), "sqlite")


def _event_table_args(table_name: str, sequence: str, position: str) -> tuple[Any, ...]:
    """Keys of a table of events: (sequence, position) unique, ``global_position`` unique.

    PostgreSQL and MySQL/MariaDB: primary key (sequence, position), which InnoDB clusters
    the rows by, and a unique index on ``global_position``. SQLite: ``global_position`` is
    the rowid (the table's own b-tree, appended to in order) and (sequence, position) a
    unique index; one b-tree fewer than a second index.
    """
    return (
        PrimaryKeyConstraint(sequence, position).ddl_if(callable_=_not_sqlite),
        UniqueConstraint(sequence, position).ddl_if(dialect="sqlite"),
        RowidPrimaryKey(GLOBAL_POSITION).ddl_if(dialect="sqlite"),
        Index(f"ix_{table_name}_{GLOBAL_POSITION}", GLOBAL_POSITION, unique=True).ddl_if(
            callable_=_not_sqlite
        ),
        {**TABLE_OPTIONS, "sqlite_with_rowid": True},
    )


class IntegerSequencedItemRecord(Base):
    """Matches ``SequencedItem``: items of a sequence at integer positions."""

    __tablename__ = "integer_sequenced_items"
    __table_args__ = _event_table_args(__tablename__, "sequence_id", "position")

    sequence_id: Mapped[UUID] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(BigInteger, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    data: Mapped[str] = mapped_column(DataText, nullable=False)
    global_position: Mapped[int] = mapped_column(GlobalPositionType, autoincrement=False)


class StoredEventRecord(Base):
    """Matches ``StoredEvent``: the domain events of aggregates, by version."""

    __tablename__ = "stored_events"
    __table_args__ = _event_table_args(__tablename__, "originator_id", "originator_version")

    originator_id: Mapped[UUID] = mapped_column(Uuid)
    originator_version: Mapped[int] = mapped_column(BigInteger, autoincrement=False)
    event_type: Mapped[str] = mapped_column(String(255), nullable=False)
    state: Mapped[str] = mapped_column(DataText, nullable=False)
    global_position: Mapped[int] = mapped_column(GlobalPositionType, autoincrement=False)


class TimestampSequencedItemRecord(Base):
    """Matches ``SequencedItem`` positioned by time: ``Decimal`` seconds, exact to the µs.

    The position column holds integer microseconds (``MicrosecondTimestamp``), so timestamps
    are exact and ordered the same way on every database. Two items with the same timestamp
    in one sequence: ``ConcurrencyError``.
    """

    __tablename__ = "timestamp_sequenced_items"
    __table_args__ = _event_table_args(__tablename__, "sequence_id", "position")
    #: Read by the strategy: positions are ``Decimal`` timestamps, not integers.
    position_type: ClassVar[type] = Decimal

    sequence_id: Mapped[UUID] = mapped_column(Uuid)
    position: Mapped[Decimal] = mapped_column(MicrosecondTimestamp, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    data: Mapped[str] = mapped_column(DataText, nullable=False)
    global_position: Mapped[int] = mapped_column(GlobalPositionType, autoincrement=False)


class SnapshotRecord(Base):
    """Snapshots as ``SequencedItem``s: the state of an object (sequence) at a version.

    Use it for the snapshot store of ``SnapshotStrategy``, with a mapper whose attribute names
    are those of the events (``originator_id`` / ``originator_version``).
    """

    __tablename__ = "snapshots"
    __table_args__ = (TABLE_OPTIONS,)

    sequence_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    data: Mapped[str] = mapped_column(DataText, nullable=False)


class StoredSnapshotRecord(Base):
    """Snapshots as ``StoredEvent``s (``originator_id``, ``originator_version``, ...)."""

    __tablename__ = "stored_snapshots"
    __table_args__ = (TABLE_OPTIONS,)

    originator_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    originator_version: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False
    )
    event_type: Mapped[str] = mapped_column(String(255), nullable=False)
    state: Mapped[str] = mapped_column(DataText, nullable=False)


#: One row per table with a global order: the last global position given out in it.
#: ``SQLAlchemyDatastore.setup_tables`` creates it with such tables (so does
#: ``Base.metadata.create_all``); the row of a table is added by its first write. (Not used
#: on SQLite.)
global_position_counters = Table(
    "global_position_counters",
    Base.metadata,
    Column("table_name", String(255), primary_key=True),
    Column("last_position", BigInteger, nullable=False),
    **TABLE_OPTIONS,
)
