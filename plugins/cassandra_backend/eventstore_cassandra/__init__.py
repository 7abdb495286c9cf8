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

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
