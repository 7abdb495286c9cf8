"""The library's active record classes: one table per kind of sequenced item.

The column names of a record class match the field names of its sequenced item namedtuple, and
the primary key is (sequence, position): the database itself refuses a second item at a taken
position, which is what makes a duplicate a ``ConcurrencyError`` on every database.

The tables of events (``IntegerSequencedItemRecord``, ``StoredEventRecord``,
``TimestampSequencedItemRecord``) also have a ``global_position`` column: every item's place in
the order of commit, unique, which ``read_all`` and catch-up subscriptions follow (see
``globalorder``). On PostgreSQL and MySQL/MariaDB the counter each table's writers take
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

from sqlalchemy import BigInteger, Column, Index, String, Table, Text, Uuid
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .timestamps import MicrosecondTimestamp

#: The data column: TEXT, but LONGTEXT on MySQL/MariaDB, whose TEXT holds only 64 KiB.
DataText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

#: Table options: InnoDB with full Unicode on MySQL/MariaDB; SQLite stores the rows in the
#: primary key's own b-tree (WITHOUT ROWID), so a sequence is read from one contiguous range.
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "sqlite_with_rowid": False,
}

#: The name of the column that holds an item's global position (see ``globalorder``).
GLOBAL_POSITION = "global_position"


class Base(DeclarativeBase):
    """Declarative base of the library's active record classes."""


def _global_position_index(table_name: str) -> Index:
    return Index(f"ix_{table_name}_{GLOBAL_POSITION}", GLOBAL_POSITION, unique=True)


class IntegerSequencedItemRecord(Base):
    """Matches ``SequencedItem``: items of a sequence at integer positions."""

    __tablename__ = "integer_sequenced_items"
    __table_args__ = (_global_position_index(__tablename__), TABLE_OPTIONS)

    sequence_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    data: Mapped[str] = mapped_column(DataText, nullable=False)
    global_position: Mapped[int] = mapped_column(BigInteger, nullable=False)


class StoredEventRecord(Base):
    """Matches ``StoredEvent``: the domain events of aggregates, by version."""

    __tablename__ = "stored_events"
    __table_args__ = (_global_position_index(__tablename__), TABLE_OPTIONS)

    originator_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    originator_version: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False
    )
    event_type: Mapped[str] = mapped_column(String(255), nullable=False)
    state: Mapped[str] = mapped_column(DataText, nullable=False)
    global_position: Mapped[int] = mapped_column(BigInteger, nullable=False)


class TimestampSequencedItemRecord(Base):
    """Matches ``SequencedItem`` positioned by time: ``Decimal`` seconds, exact to the µs.

    The position column holds integer microseconds (``MicrosecondTimestamp``), so timestamps
    are exact and ordered the same way on every database. Two items with the same timestamp
    in one sequence: ``ConcurrencyError``.
    """

    __tablename__ = "timestamp_sequenced_items"
    __table_args__ = (_global_position_index(__tablename__), TABLE_OPTIONS)
    #: Read by the strategy: positions are ``Decimal`` timestamps, not integers.
    position_type: ClassVar[type] = Decimal

    sequence_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[Decimal] = mapped_column(
        MicrosecondTimestamp, primary_key=True, autoincrement=False
    )
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    data: Mapped[str] = mapped_column(DataText, nullable=False)
    global_position: Mapped[int] = mapped_column(BigInteger, nullable=False)


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
