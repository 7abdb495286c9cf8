"""SQLAlchemy 2.x backend of eventstore: SQLite (the embedded default), PostgreSQL, MySQL/MariaDB.

Everything a user needs is importable from here::

    from eventstore_sqlalchemy import (
        SQLAlchemySettings, SQLAlchemyDatastore, SQLAlchemyActiveRecordStrategy,
        IntegerSequencedItemRecord, StoredEventRecord, TimestampSequencedItemRecord,
        SnapshotRecord, StoredSnapshotRecord,
    )
"""

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
from .sqlite import configure_engine as configure_sqlite_engine
from .strategy import SQLAlchemyActiveRecordStrategy
from .timestamps import MicrosecondTimestamp

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
