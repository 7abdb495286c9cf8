"""SQLAlchemy 2.x backend of eventstore: SQLite (the embedded default), PostgreSQL, MySQL/MariaDB.

Everything a user needs is importable from here::

    from eventstore_sqlalchemy import (
        SQLAlchemySettings, SQLAlchemyDatastore, SQLAlchemyActiveRecordStrategy,
        IntegerSequencedItemRecord, StoredEventRecord, TimestampSequencedItemRecord,
        SnapshotRecord, StoredSnapshotRecord,
    )

The names are imported on first use (a module ``__getattr__``), so that loading the plugin
(``eventstore_sqlalchemy.plugin``) imports no SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventstore_core.lazyexports import lazy_exports

if TYPE_CHECKING:
    from .databases.sqlite import configure_engine as configure_sqlite_engine
    from .datastore import SQLAlchemyDatastore, SQLAlchemySettings
    from .records import (
        Base,
        IntegerSequencedItemRecord,
        SnapshotRecord,
        StoredEventRecord,
        StoredSnapshotRecord,
        TimestampSequencedItemRecord,
        global_position_counters,
    )
    from .strategy import SQLAlchemyActiveRecordStrategy
    from .timestamps import MicrosecondTimestamp

#: public name -> (module, attribute)
_EXPORTS = {
    "Base": ("records", "Base"),
    "IntegerSequencedItemRecord": ("records", "IntegerSequencedItemRecord"),
    "MicrosecondTimestamp": ("timestamps", "MicrosecondTimestamp"),
    "SQLAlchemyActiveRecordStrategy": ("strategy", "SQLAlchemyActiveRecordStrategy"),
    "SQLAlchemyDatastore": ("datastore", "SQLAlchemyDatastore"),
    "SQLAlchemySettings": ("datastore", "SQLAlchemySettings"),
    "SnapshotRecord": ("records", "SnapshotRecord"),
    "StoredEventRecord": ("records", "StoredEventRecord"),
    "StoredSnapshotRecord": ("records", "StoredSnapshotRecord"),
    "TimestampSequencedItemRecord": ("records", "TimestampSequencedItemRecord"),
    "configure_sqlite_engine": ("databases.sqlite", "configure_engine"),
    "global_position_counters": ("records", "global_position_counters"),
}

__all__ = [
    "Base",
    "IntegerSequencedItemRecord",
    "MicrosecondTimestamp",
    "SQLAlchemyActiveRecordStrategy",
    "SQLAlchemyDatastore",
    "SQLAlchemySettings",
    "SnapshotRecord",
    "StoredEventRecord",
    "StoredSnapshotRecord",
    "TimestampSequencedItemRecord",
    "configure_sqlite_engine",
    "global_position_counters",
]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
