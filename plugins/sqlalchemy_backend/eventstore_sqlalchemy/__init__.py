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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    "configure_sqlite_engine": ("sqlite", "configure_engine"),
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
