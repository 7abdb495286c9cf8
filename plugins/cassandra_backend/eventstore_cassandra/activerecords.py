"""Active records and the active record strategy: the user's document's import path.

``from eventstore_cassandra.activerecords import CassandraActiveRecordStrategy,
IntegerSequencedItemRecord, StoredEventRecord`` (the record classes live in ``records``, the
strategy in ``strategy``).
"""

from .records import (
    CassandraRecord,
    IntegerSequencedItemRecord,
    SnapshotRecord,
    StoredEventRecord,
    TimestampSequencedItemRecord,
)
from .strategy import CassandraActiveRecordStrategy

__all__ = [
    "CassandraActiveRecordStrategy",
    "CassandraRecord",
    "IntegerSequencedItemRecord",
    "SnapshotRecord",
    "StoredEventRecord",
    "TimestampSequencedItemRecord",
]
