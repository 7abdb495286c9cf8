"""The backend kit on SQLite (file and memory), PostgreSQL and MariaDB.

Each database runs ``BackendTestCase`` twice: with ``SequencedItem``s (``record="integer"``)
and with ``StoredEvent``s in ``stored_events``; the SQLite file once more with snapshots shaped
like ``StoredEvent``s (``stored_snapshots``). On the servers, whose tables outlive the run,
the integer items live in a table of their own that is emptied first (the kit reads the whole
global order). Process tests start their processes with ``spawn``.
"""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID

from callers_session import CallersSessionStrategy, OwnTransactionStrategy
from eventstore_core.sequenceditem import SequencedItem, StoredEvent
from eventstore_core.testing import BackendTestCase
from sqlalchemy import BigInteger, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy_databases import MYSQL_URI, POSTGRES_URI, sqlite_file_uri

from eventstore_sqlalchemy import (
    IntegerSequencedItemRecord,
    SnapshotRecord,
    SQLAlchemyActiveRecordStrategy,
    SQLAlchemyDatastore,
    SQLAlchemySettings,
    StoredEventRecord,
    StoredSnapshotRecord,
    TimestampSequencedItemRecord,
)
from eventstore_sqlalchemy.datastore import as_table
from eventstore_sqlalchemy.records import TABLE_OPTIONS, DataText


# -- the global order ------------------------------------------------------------------------
class ConformanceBase(DeclarativeBase):
    pass


class GlobalOrderConformanceRecord(ConformanceBase):
    """``IntegerSequencedItemRecord`` under another name, for the servers' global order cases.

    The suite writes 20,000 items a run and reads the whole global order from 0; on the
    servers (whose tables outlive the run) it gets a table that is emptied first.
    """

    __tablename__ = "conformance_global_order_items"
    __table_args__ = (TABLE_OPTIONS,)
    sequence_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    data: Mapped[str] = mapped_column(DataText, nullable=False)
    global_position: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)



#: The SQLite file of these tests. Kept in the environment, so that the children of the process
#: tests (spawned: they import this module afresh) reach the same file as their parent.
SQLITE_URI = os.environ.setdefault("EVENTSTORE_CONFORMANCE_SQLITE_URI",
                                   sqlite_file_uri("conformance"))


class _OnDatabase(BackendTestCase):
    """A new strategy, with its own engine, on the class's database for each call."""

    __test__ = False
    uri: str
    backend_name: str | None = "sqlalchemy"
    #: The strategy the cases run on; the caller's-session runs (at the end) change it.
    strategy_class: Any = OwnTransactionStrategy
    #: record -> (item class, record class)
    records: dict[str, tuple[Any, Any]] = {
        "integer": (SequencedItem, IntegerSequencedItemRecord),
        "stored_event": (StoredEvent, StoredEventRecord),
        "timestamp": (SequencedItem, TimestampSequencedItemRecord),
        "snapshot": (SequencedItem, SnapshotRecord),
    }

    def create_strategy(self, record: str = "integer") -> SQLAlchemyActiveRecordStrategy[Any]:
        item_class, record_class = self.records[record]
        return self.strategy_class(  # type: ignore[no-any-return]
            sequenced_item_class=item_class, active_record_class=record_class, uri=self.uri
        )


class _Again:
    """A second run of the kit on another item shape: smaller sizes for what it repeats."""

    events_per_writer = 500
    long_sequence = 300


class _OnServer(_OnDatabase):
    """Integer items in ``conformance_global_order_items``, emptied before the class runs."""

    __test__ = False
    records = {**_OnDatabase.records,
               "integer": (SequencedItem, GlobalOrderConformanceRecord)}

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        record_class = cls.records["integer"][1]
        datastore = SQLAlchemyDatastore(SQLAlchemySettings(cls.uri), tables=(record_class,))
        datastore.setup_tables()
        with datastore.engine.begin() as conn:
            conn.execute(as_table(record_class).delete())
        datastore.drop_connection()


class _InMemory(_OnDatabase):
    """Strategies sharing one in-memory SQLite database (it lives in one connection)."""

    __test__ = False
    datastore: SQLAlchemyDatastore | None = None

    def create_strategy(self, record: str = "integer") -> SQLAlchemyActiveRecordStrategy[Any]:
        cls = type(self)
        if cls.datastore is None:
            cls.datastore = SQLAlchemyDatastore(
                SQLAlchemySettings("sqlite:///:memory:"),
                tables=[record_class for _, record_class in self.records.values()],
            )
            cls.datastore.setup_tables()
        item_class, record_class = self.records[record]
        return self.strategy_class(  # type: ignore[no-any-return]
            sequenced_item_class=item_class, active_record_class=record_class,
            session=cls.datastore.session,
        )


class TestSQLiteFile(_OnDatabase):
    uri = SQLITE_URI
    config_url = SQLITE_URI


class TestSQLiteFileStoredEvents(_Again, TestSQLiteFile):
    record = "stored_event"


class TestSQLiteFileStoredSnapshots(_Again, TestSQLiteFile):
    """Snapshots shaped like ``StoredEvent``s, in ``stored_snapshots``."""

    records = {**_OnDatabase.records, "snapshot": (StoredEvent, StoredSnapshotRecord)}


class TestSQLiteMemory(_InMemory):
    pass


class TestSQLiteMemoryStoredEvents(_Again, _InMemory):
    record = "stored_event"


class TestPostgreSQL(_OnServer):
    uri = POSTGRES_URI


class TestPostgreSQLStoredEvents(_Again, _OnServer):
    uri = POSTGRES_URI
    record = "stored_event"


class TestMariaDB(_OnServer):
    uri = MYSQL_URI


class TestMariaDBStoredEvents(_Again, _OnServer):
    uri = MYSQL_URI
    record = "stored_event"


# -- every case again, each call inside the caller's session transaction (issue 10) --------
def _in_callers_session(case: type) -> type:
    """The case on ``CallersSessionStrategy``: the second connection source. Registration
    is proven once, by the case itself."""
    name = case.__name__.replace("Test", "TestCallersSession", 1)
    return type(name, (case,), {"strategy_class": CallersSessionStrategy,
                                "backend_name": None, "config_url": None,
                                "__module__": __name__, "__qualname__": name})


for _case in [value for key, value in list(globals().items())
              if key.startswith("Test") and isinstance(value, type)]:
    globals()[_case.__name__.replace("Test", "TestCallersSession", 1)] = _in_callers_session(_case)
