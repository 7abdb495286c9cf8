"""How a record table splits a sequence into Cassandra partitions, read from the table itself.

A table made by this version has the column ``partition_nr`` in its partition key and says
its partition size in its comment (``eventstore partition_size=50000``; seconds of the
position for a table with timestamp positions). The size is fixed when the table is made:
every process that opens the table reads it from the schema (``system_schema``), never from
its own settings, so all of them put a position in the same partition. A table made before
(no ``partition_nr`` column) has one partition per sequence and is used as it is.

A position's partition is ``floor(position / size)``: for integer positions, partition 0
holds positions ``0 .. size-1``; for timestamps, partition ``n`` the ``size`` seconds from
``n * size`` (a time bucket).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cassandra.cluster import Session
from cassandra.query import SimpleStatement
from eventstore_core.exceptions import DatastoreError

from .errors import translate
from .records import COMMENT_PREFIX, LATER_COLUMN, PARTITION_COLUMN, CassandraRecord, qualified


@dataclass(frozen=True)
class Layout:
    """The partition size of one table; ``size`` None: one partition per sequence."""

    size: int | Decimal | None

    @property
    def split(self) -> bool:
        return self.size is not None

    def partition(self, position: Any) -> int:
        """The partition of ``position`` (0 for a table that is not split)."""
        size = self.size
        if size is None:
            return 0
        quotient = position // size  # int: floor; Decimal: towards zero
        if isinstance(quotient, Decimal):
            if position < 0 and position % size != 0:
                quotient -= 1
            return int(quotient)
        return int(quotient)


UNSPLIT = Layout(None)


def size_for(record: type[CassandraRecord], partition_size: int,
             partition_seconds: Decimal) -> int | Decimal:
    """The size a new table of ``record`` gets from the settings (0: not split)."""
    if not record.splittable():
        return 0
    if record.position_cql_type == "decimal":
        return partition_seconds.normalize() if partition_seconds else 0
    return partition_size


def read_layout(session: Session, keyspace: str, record: type[CassandraRecord],
                endpoints: str, timeout: float) -> Layout:
    """The layout of ``record``'s table as the schema says (one or two local reads)."""
    table = record.table_name
    where = f"{keyspace}.{table}"
    try:
        columns = {row[0] for row in session.execute(SimpleStatement(
            "SELECT column_name FROM system_schema.columns WHERE keyspace_name = %s "
            "AND table_name = %s", is_idempotent=True), (keyspace, table), timeout=timeout)}
        if PARTITION_COLUMN not in columns:
            if not columns:
                raise DatastoreError(
                    f"table {where} does not exist at Cassandra {endpoints}: call "
                    f"CassandraDatastore.setup_tables() first"
                )
            return UNSPLIT
        if LATER_COLUMN not in columns:
            raise DatastoreError(
                f"table {where} has a {PARTITION_COLUMN} column but no {LATER_COLUMN}: it was "
                f"made by a development version of this backend; copy its items into a new "
                f"table (all_items, then append) and drop it"
            )
        rows = list(session.execute(SimpleStatement(
            "SELECT comment FROM system_schema.tables WHERE keyspace_name = %s "
            "AND table_name = %s", is_idempotent=True), (keyspace, table), timeout=timeout))
    except DatastoreError:
        raise
    except Exception as error:
        raise translate(error, f"reading the schema of {where}", endpoints) from error
    comment = str(rows[0][0] or "") if rows else ""
    size = parse_comment(comment, record)
    if size is None:
        raise DatastoreError(
            f"table {where} has a {PARTITION_COLUMN} column but its comment {comment!r} does "
            f"not give its partition size; restore it with ALTER TABLE "
            f"{qualified(keyspace, table)} WITH comment = '{COMMENT_PREFIX}<size it was made "
            f"with>'"
        )
    return Layout(size)


def parse_comment(comment: str, record: type[CassandraRecord]) -> int | Decimal | None:
    """The partition size a table comment gives, or None."""
    if not comment.startswith(COMMENT_PREFIX):
        return None
    text = comment[len(COMMENT_PREFIX):].split()[0] if comment[len(COMMENT_PREFIX):] else ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0:
        return None
    if record.position_cql_type == "decimal":
        return value
    if value != value.to_integral_value():
        return None
    return int(value)
