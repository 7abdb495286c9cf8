"""The backend kit on a real Cassandra.

Run for ``SequencedItem``s (each strategy through its own connection, and once through a
session shared by the test case's strategies) and for ``StoredEvent``s. Process tests start
their processes with ``spawn``.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from cassandra_server import TEST_KEYSPACE, test_settings
from eventstore_core.sequenceditem import SequencedItem, StoredEvent
from eventstore_core.testing import BackendTestCase

from eventstore_cassandra import (
    CassandraActiveRecordStrategy,
    CassandraDatastore,
    CassandraSettings,
    IntegerSequencedItemRecord,
    SnapshotRecord,
    StoredEventRecord,
    TimestampSequencedItemRecord,
)


class _OwnConnection(BackendTestCase):
    """Each strategy connects by itself (as ``EventStore.from_config`` makes them).

    The tables are emptied once before the test case's tests, so that iterating over
    everything reads what these tests wrote, not what every earlier run left.
    """

    __test__ = False
    backend_name = "cassandra"
    #: The live global-order test: conditional writes plus the feed cost a few ms each.
    writers = 3
    events_per_writer = 300
    #: record -> (item class, record class)
    records: dict[str, tuple[Any, Any]] = {
        "integer": (SequencedItem, IntegerSequencedItemRecord),
        "stored_event": (StoredEvent, StoredEventRecord),
        "timestamp": (SequencedItem, TimestampSequencedItemRecord),
        "snapshot": (StoredEvent, SnapshotRecord),
    }

    @classmethod
    def settings(cls) -> CassandraSettings:
        """Where the tests' tables are (the cluster tests reuse this case elsewhere)."""
        return test_settings()

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        tables = tuple(record_class for _, record_class in cls.records.values())
        datastore = CassandraDatastore(settings=cls.settings(), tables=tables)
        datastore.setup_connection(make_default=False)
        try:
            datastore.setup_tables()
            datastore.truncate_tables()
        finally:
            datastore.drop_connection()

    def create_strategy(self, record: str = "integer") -> CassandraActiveRecordStrategy[Any]:
        item_class, record_class = self.records[record]
        return CassandraActiveRecordStrategy(
            active_record_class=record_class, sequenced_item_class=item_class,
            settings=self.settings(),
        )


class _SharedSession(_OwnConnection):
    """Strategies share one session given as ``session=`` (another process makes its own)."""

    __test__ = False
    datastore: CassandraDatastore | None = None
    owner_pid = 0

    def create_strategy(self, record: str = "integer") -> CassandraActiveRecordStrategy[Any]:
        cls = type(self)
        if cls.owner_pid and os.getpid() != cls.owner_pid:
            return super().create_strategy(record)  # a forked child: not the parent's session
        if cls.datastore is None:
            tables = tuple(record_class for _, record_class in self.records.values())
            cls.datastore = CassandraDatastore(settings=test_settings(), tables=tables)
            cls.datastore.setup_connection(make_default=False)
            cls.datastore.setup_tables()
            cls.owner_pid = os.getpid()
        item_class, record_class = self.records[record]
        return CassandraActiveRecordStrategy(
            active_record_class=record_class, sequenced_item_class=item_class,
            session=cls.datastore.session, keyspace=cls.datastore.settings.keyspace,
        )

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.datastore is not None and os.getpid() == cls.owner_pid:
            cls.datastore.drop_connection()
            cls.datastore = None
        super().tearDownClass()


class _Again:
    """A second run of the kit: smaller sizes for what it repeats."""

    long_sequence = 300


class TestCassandra(_OwnConnection):
    config_url = f"cassandra://{os.environ.get('CASSANDRA_HOSTS', '127.0.0.1')}/{TEST_KEYSPACE}"


class TestCassandraStoredEvents(_Again, _OwnConnection):
    record = "stored_event"


class TestCassandraSharedSession(_Again, _SharedSession):
    pass


#: The split-size variant's keyspace: tables made with three positions (3 ms of timestamps)
#: per Cassandra partition, so that the kit's lists cross partition boundaries all the time.
SPLIT_KEYSPACE = TEST_KEYSPACE + "_split3"
SPLIT = {"partition_size": 3, "partition_seconds": Decimal("0.003")}


class TestCassandraSplitPartitions(_Again, _OwnConnection):
    """The whole kit on tables split every 3 positions: reads, conditional writes of lists
    across partitions (see ``crossing``), the feed and ``all_items`` must not change."""

    config_url = f"cassandra://{os.environ.get('CASSANDRA_HOSTS', '127.0.0.1')}/{SPLIT_KEYSPACE}"

    @classmethod
    def settings(cls) -> CassandraSettings:
        return test_settings(keyspace=SPLIT_KEYSPACE, **SPLIT)
