"""Apache Cassandra backend of eventstore (cassandra-driver).

Everything a user needs is importable from here::

    from eventstore_cassandra import (
        CassandraSettings, CassandraDatastore, CassandraActiveRecordStrategy,
        AsyncCassandraActiveRecordStrategy, IntegerSequencedItemRecord, StoredEventRecord,
    )

The names are imported on first use (a module ``__getattr__``), so that loading the plugin
(``eventstore_cassandra.plugin``) imports no cassandra-driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventstore_core.lazyexports import lazy_exports

if TYPE_CHECKING:
    from .aio import AsyncCassandraActiveRecordStrategy
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

#: public name -> (module, attribute)
_EXPORTS = {
    "AsyncCassandraActiveRecordStrategy": ("aio", "AsyncCassandraActiveRecordStrategy"),
    "CassandraActiveRecordStrategy": ("strategy", "CassandraActiveRecordStrategy"),
    "CassandraDatastore": ("datastore", "CassandraDatastore"),
    "CassandraRecord": ("records", "CassandraRecord"),
    "CassandraSettings": ("settings", "CassandraSettings"),
    "IntegerSequencedItemRecord": ("records", "IntegerSequencedItemRecord"),
    "SnapshotRecord": ("records", "SnapshotRecord"),
    "StoredEventRecord": ("records", "StoredEventRecord"),
    "TimestampSequencedItemRecord": ("records", "TimestampSequencedItemRecord"),
}

__all__ = [
    "AsyncCassandraActiveRecordStrategy",
    "CassandraActiveRecordStrategy",
    "CassandraDatastore",
    "CassandraRecord",
    "CassandraSettings",
    "IntegerSequencedItemRecord",
    "SnapshotRecord",
    "StoredEventRecord",
    "TimestampSequencedItemRecord",
]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
