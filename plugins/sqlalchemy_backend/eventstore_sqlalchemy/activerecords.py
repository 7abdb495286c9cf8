"""Active records and the active record strategy: the document's import path.

``from eventstore_sqlalchemy.activerecords import SQLAlchemyActiveRecordStrategy,
IntegerSequencedItemRecord, StoredEventRecord`` (the record classes live in ``records``, the
strategy in ``strategy``).
"""

from .records import (
    Base,
    IntegerSequencedItemRecord,
    SnapshotRecord,
    StoredEventRecord,
    StoredSnapshotRecord,
    TimestampSequencedItemRecord,
)
from .strategy import SQLAlchemyActiveRecordStrategy

__all__ = [
    "Base",
    "IntegerSequencedItemRecord",
    "SQLAlchemyActiveRecordStrategy",
    "SnapshotRecord",
    "StoredEventRecord",
    "StoredSnapshotRecord",
    "TimestampSequencedItemRecord",
]
