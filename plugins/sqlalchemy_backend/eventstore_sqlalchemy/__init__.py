"""SQLAlchemy 2.x backend of eventstore: SQLite (the embedded default), PostgreSQL, MySQL/MariaDB.

Everything a user needs is importable from here::

    from eventstore_sqlalchemy import (
        SQLAlchemySettings, SQLAlchemyDatastore, SQLAlchemyActiveRecordStrategy,
        IntegerSequencedItemRecord, StoredEventRecord,
    )
"""

from .datastore import SQLAlchemyDatastore, SQLAlchemySettings
from .records import Base, IntegerSequencedItemRecord, StoredEventRecord
from .sqlite import configure_engine as configure_sqlite_engine
from .strategy import SQLAlchemyActiveRecordStrategy

__all__ = [
    "Base",
    "IntegerSequencedItemRecord",
    "SQLAlchemyActiveRecordStrategy",
    "SQLAlchemyDatastore",
    "SQLAlchemySettings",
    "StoredEventRecord",
    "configure_sqlite_engine",
]
