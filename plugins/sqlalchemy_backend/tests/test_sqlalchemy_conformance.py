"""The core's conformance suite on SQLite (file and memory), PostgreSQL and MariaDB.

Each database runs the strategy cases twice: with ``SequencedItem`` in
``integer_sequenced_items`` and with ``StoredEvent`` in ``stored_events``; then the timestamp
case (``timestamp_sequenced_items``), the snapshot case (events in ``stored_events``,
snapshots in ``snapshots``, and once in ``stored_snapshots``) and the global order case
(``integer_sequenced_items``; on the servers a table of its own, emptied first; writers are
4 processes, or threads for ``:memory:``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from callers_session import CallersSessionStrategy
from eventstore_core.sequenceditem import SequencedItem, StoredEvent
from eventstore_core.testing import (
    ActiveRecordStrategyTestCase,
    GlobalOrderTestCase,
    SnapshotTestCase,
    TimestampSequencedTestCase,
)
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


class _IntegerItems:
    item_class: Any = SequencedItem
    record_class: Any = IntegerSequencedItemRecord


class _StoredEvents:
    item_class: Any = StoredEvent
    record_class: Any = StoredEventRecord


class _Timestamps:
    item_class: Any = SequencedItem
    record_class: Any = TimestampSequencedItemRecord


class _Snapshots:
    """Events in ``stored_events``, snapshots in ``snapshots`` (``SequencedItem``s)."""

    item_class: Any = StoredEvent
    record_class: Any = StoredEventRecord
    snapshot_item_class: Any = SequencedItem
    snapshot_record_class: Any = SnapshotRecord


class _OnURI:
    """A new strategy, with its own engine, on the class's database for each call."""

    strategy_class: Any = SQLAlchemyActiveRecordStrategy
    uri: str
    item_class: Any
    record_class: Any
    snapshot_item_class: Any = None
    snapshot_record_class: Any = None

    def create_strategy(self) -> SQLAlchemyActiveRecordStrategy[Any]:
        return self.strategy_class(  # type: ignore[no-any-return]
            sequenced_item_class=self.item_class,
            active_record_class=self.record_class,
            uri=self.uri,
        )

    def create_snapshot_strategy(self) -> SQLAlchemyActiveRecordStrategy[Any]:
        return self.strategy_class(  # type: ignore[no-any-return]
            sequenced_item_class=self.snapshot_item_class,
            active_record_class=self.snapshot_record_class,
            uri=self.uri,
        )


class _InMemory:
    """Strategies sharing one in-memory SQLite database (it lives in one connection)."""

    processes_share_store = False
    strategy_class: Any = SQLAlchemyActiveRecordStrategy
    item_class: Any
    record_class: Any
    snapshot_item_class: Any = None
    snapshot_record_class: Any = None
    datastore: SQLAlchemyDatastore | None = None

    def _datastore(self) -> SQLAlchemyDatastore:
        cls = type(self)
        if cls.datastore is None:
            tables = [self.record_class]
            if self.snapshot_record_class is not None:
                tables.append(self.snapshot_record_class)
            cls.datastore = SQLAlchemyDatastore(
                SQLAlchemySettings("sqlite:///:memory:"), tables=tables
            )
            cls.datastore.setup_tables()
        return cls.datastore

    def create_strategy(self) -> SQLAlchemyActiveRecordStrategy[Any]:
        return self.strategy_class(  # type: ignore[no-any-return]
            sequenced_item_class=self.item_class,
            active_record_class=self.record_class,
            session=self._datastore().session,
        )

    def create_snapshot_strategy(self) -> SQLAlchemyActiveRecordStrategy[Any]:
        return self.strategy_class(  # type: ignore[no-any-return]
            sequenced_item_class=self.snapshot_item_class,
            active_record_class=self.snapshot_record_class,
            session=self._datastore().session,
        )


class TestSQLiteFileIntegerItems(_IntegerItems, _OnURI, ActiveRecordStrategyTestCase):
    uri = sqlite_file_uri("conformance")


class TestSQLiteFileStoredEvents(_StoredEvents, _OnURI, ActiveRecordStrategyTestCase):
    uri = sqlite_file_uri("conformance")


class TestSQLiteMemoryIntegerItems(_IntegerItems, _InMemory, ActiveRecordStrategyTestCase):
    pass


class TestSQLiteMemoryStoredEvents(_StoredEvents, _InMemory, ActiveRecordStrategyTestCase):
    pass


class TestPostgreSQLIntegerItems(_IntegerItems, _OnURI, ActiveRecordStrategyTestCase):
    uri = POSTGRES_URI


class TestPostgreSQLStoredEvents(_StoredEvents, _OnURI, ActiveRecordStrategyTestCase):
    uri = POSTGRES_URI


class TestMariaDBIntegerItems(_IntegerItems, _OnURI, ActiveRecordStrategyTestCase):
    uri = MYSQL_URI


class TestMariaDBStoredEvents(_StoredEvents, _OnURI, ActiveRecordStrategyTestCase):
    uri = MYSQL_URI


# -- timestamp positions -----------------------------------------------------------------
class TestSQLiteFileTimestamps(_Timestamps, _OnURI, TimestampSequencedTestCase):
    uri = sqlite_file_uri("conformance")


class TestSQLiteMemoryTimestamps(_Timestamps, _InMemory, TimestampSequencedTestCase):
    pass


class TestPostgreSQLTimestamps(_Timestamps, _OnURI, TimestampSequencedTestCase):
    uri = POSTGRES_URI


class TestMariaDBTimestamps(_Timestamps, _OnURI, TimestampSequencedTestCase):
    uri = MYSQL_URI


# -- snapshots -----------------------------------------------------------------------------
class TestSQLiteFileSnapshots(_Snapshots, _OnURI, SnapshotTestCase):
    uri = sqlite_file_uri("conformance")


class TestSQLiteFileStoredSnapshots(_Snapshots, _OnURI, SnapshotTestCase):
    """Snapshots shaped like ``StoredEvent``s, in ``stored_snapshots``."""

    uri = sqlite_file_uri("conformance")
    snapshot_item_class = StoredEvent
    snapshot_record_class = StoredSnapshotRecord


class TestSQLiteMemorySnapshots(_Snapshots, _InMemory, SnapshotTestCase):
    pass


class TestPostgreSQLSnapshots(_Snapshots, _OnURI, SnapshotTestCase):
    uri = POSTGRES_URI


class TestMariaDBSnapshots(_Snapshots, _OnURI, SnapshotTestCase):
    uri = MYSQL_URI


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


class _EmptiedFirst(_OnURI):
    item_class = SequencedItem
    record_class = GlobalOrderConformanceRecord

    @classmethod
    def setUpClass(cls) -> None:
        datastore = SQLAlchemyDatastore(SQLAlchemySettings(cls.uri), tables=(cls.record_class,))
        datastore.setup_tables()
        with datastore.engine.begin() as conn:
            conn.execute(as_table(cls.record_class).delete())
        datastore.drop_connection()


class TestSQLiteFileGlobalOrder(_IntegerItems, _OnURI, GlobalOrderTestCase):
    uri = sqlite_file_uri("conformance")


class TestSQLiteMemoryGlobalOrder(_IntegerItems, _InMemory, GlobalOrderTestCase):
    pass


class TestPostgreSQLGlobalOrder(_EmptiedFirst, GlobalOrderTestCase):
    uri = POSTGRES_URI


class TestMariaDBGlobalOrder(_EmptiedFirst, GlobalOrderTestCase):
    uri = MYSQL_URI


# -- every case again, each call inside the caller's session transaction (issue 10) --------
def _in_callers_session(case: type) -> type:
    """The case with ``CallersSessionStrategy``: the second connection source."""
    name = case.__name__.replace("Test", "TestCallersSession", 1)
    return type(name, (case,), {"strategy_class": CallersSessionStrategy, "__module__": __name__})


for _case in [value for key, value in list(globals().items()) if key.startswith("TestS")
              or key.startswith("TestP") or key.startswith("TestM")]:
    globals()[_case.__name__.replace("Test", "TestCallersSession", 1)] = _in_callers_session(_case)
