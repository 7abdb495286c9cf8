"""Apache Cassandra backend of eventstore (cassandra-driver).

Everything a user needs is importable from here::

    from eventstore_cassandra import (
        CassandraSettings, CassandraDatastore, CassandraActiveRecordStrategy,
        IntegerSequencedItemRecord, StoredEventRecord,
    )
"""

from .datastore import CassandraDatastore
from .records import (
    CassandraRecord,
    IntegerSequencedItemRecord,
    SnapshotRecord,
    StoredEventRecord,
    TimestampSequencedItemRecord,
)
from .settings import CassandraSettings
from .strategy import CassandraActiveRecordStrategy

__all__ = [
    "CassandraActiveRecordStrategy",
    "CassandraDatastore",
    "CassandraRecord",
    "CassandraSettings",
    "IntegerSequencedItemRecord",
    "SnapshotRecord",
    "StoredEventRecord",
    "TimestampSequencedItemRecord",
]
