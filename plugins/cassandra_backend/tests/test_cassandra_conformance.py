"""The core's conformance suite on a real Cassandra.

Run for integer items and stored events (each through its own connection, and once through a
session shared by the test case's strategies), timestamp positions and snapshots.
"""

from __future__ import annotations

import os
from typing import Any

from cassandra_server import test_settings
from eventstore_core.sequenceditem import SequencedItem, StoredEvent
from eventstore_core.testing import (
    ActiveRecordStrategyTestCase,
    SnapshotTestCase,
    TimestampSequencedTestCase,
)

from eventstore_cassandra import (
    CassandraActiveRecordStrategy,
    CassandraDatastore,
    IntegerSequencedItemRecord,
    SnapshotRecord,
    StoredEventRecord,
    TimestampSequencedItemRecord,
)


class _OwnConnection:
    """Each strategy connects by itself (as ``EventStore.from_config`` makes them).

    The test case's tables are emptied once before its tests, so that iterating over
    everything reads what these tests wrote, not what every earlier run left.
    """

    item_class: Any = SequencedItem
    record_class: Any = IntegerSequencedItemRecord
    other_tables: tuple[Any, ...] = ()

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()  # type: ignore[misc]
        datastore = CassandraDatastore(
            settings=test_settings(), tables=(cls.record_class, *cls.other_tables)
        )
        datastore.setup_connection(make_default=False)
        try:
            datastore.setup_tables()
            datastore.truncate_tables()
        finally:
            datastore.drop_connection()

    def create_strategy(self) -> CassandraActiveRecordStrategy[Any]:
        return CassandraActiveRecordStrategy(
            active_record_class=self.record_class,
            sequenced_item_class=self.item_class,
            settings=test_settings(),
        )


class _SharedSession(_OwnConnection):
    """Strategies share one session given as ``session=`` (a forked child makes its own)."""

    datastore: CassandraDatastore | None = None
    owner_pid = 0

    def create_strategy(self) -> CassandraActiveRecordStrategy[Any]:
        cls = type(self)
        if cls.owner_pid and os.getpid() != cls.owner_pid:
            return super().create_strategy()  # a forked child: the parent's session is unusable
        if cls.datastore is None:
            cls.datastore = CassandraDatastore(
                settings=test_settings(), tables=(self.record_class,)
            )
            cls.datastore.setup_connection(make_default=False)
            cls.datastore.setup_tables()
            cls.owner_pid = os.getpid()
        return CassandraActiveRecordStrategy(
            active_record_class=self.record_class,
            sequenced_item_class=self.item_class,
            session=cls.datastore.session,
            keyspace=cls.datastore.settings.keyspace,
        )

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.datastore is not None and os.getpid() == cls.owner_pid:
            cls.datastore.drop_connection()
            cls.datastore = None
        super().tearDownClass()  # type: ignore[misc]


class TestCassandraIntegerItems(_OwnConnection, ActiveRecordStrategyTestCase):
    pass


class TestCassandraStoredEvents(_OwnConnection, ActiveRecordStrategyTestCase):
    item_class = StoredEvent
    record_class = StoredEventRecord


class TestCassandraSharedSession(_SharedSession, ActiveRecordStrategyTestCase):
    pass


class TestCassandraTimestamps(_OwnConnection, TimestampSequencedTestCase):
    record_class = TimestampSequencedItemRecord


class TestCassandraSnapshots(_OwnConnection, SnapshotTestCase):
    item_class = StoredEvent
    record_class = StoredEventRecord
    other_tables = (SnapshotRecord,)

    def create_snapshot_strategy(self) -> CassandraActiveRecordStrategy[Any]:
        return CassandraActiveRecordStrategy(
            active_record_class=SnapshotRecord,
            sequenced_item_class=StoredEvent,
            settings=test_settings(),
        )
