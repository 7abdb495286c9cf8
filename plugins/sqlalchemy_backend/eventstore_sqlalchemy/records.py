"""The library's active record classes: one table per kind of sequenced item.

The column names of a record class match the field names of its sequenced item namedtuple, and
the primary key is (sequence, position): the database itself refuses a second item at a taken
position, which is what makes a duplicate a ``ConcurrencyError`` on every database.

Users with their own declarative ``Base`` can declare their own record classes the same way:
any mapped class (or ``Table``) whose columns are named like the namedtuple's fields works.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, String, Text, Uuid
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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


class Base(DeclarativeBase):
    """Declarative base of the library's active record classes."""


class IntegerSequencedItemRecord(Base):
    """Matches ``SequencedItem``: items of a sequence at integer positions."""

    __tablename__ = "integer_sequenced_items"
    __table_args__ = (TABLE_OPTIONS,)

    sequence_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    data: Mapped[str] = mapped_column(DataText, nullable=False)


class StoredEventRecord(Base):
    """Matches ``StoredEvent``: the domain events of aggregates, by version."""

    __tablename__ = "stored_events"
    __table_args__ = (TABLE_OPTIONS,)

    originator_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    originator_version: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False
    )
    event_type: Mapped[str] = mapped_column(String(255), nullable=False)
    state: Mapped[str] = mapped_column(DataText, nullable=False)
