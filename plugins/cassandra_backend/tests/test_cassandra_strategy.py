"""What the conformance suite does not cover: Cassandra's limits, paging, the plugin."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from cassandra_server import TEST_KEYSPACE, test_settings
from eventstore_core import DomainEvent, EventStore
from eventstore_core.exceptions import ConfigurationError, InvalidEventError
from eventstore_core.sequenceditem import SequencedItem

from eventstore_cassandra import (
    CassandraActiveRecordStrategy,
    CassandraDatastore,
    CassandraRecord,
)

TOPIC = "eventstore_core.events#DomainEvent"


class PagingRecord(CassandraRecord):
    """A table of its own, so that paging over *everything* sees only this test's items."""

    table_name = "paging_items"
    column_names = ("stream", "version", "kind", "payload")


class BulkRecord(CassandraRecord):
    """The big items of these tests stay out of the tables the conformance suite pages over."""

    table_name = "bulk_items"


@pytest.fixture(scope="module", autouse=True)
def empty_tables() -> None:
    datastore = CassandraDatastore(settings=test_settings(), tables=(BulkRecord,))
    datastore.setup_connection(make_default=False)
    try:
        datastore.setup_tables()
        datastore.truncate_tables()
    finally:
        datastore.drop_connection()


@pytest.fixture
def strategy() -> Iterator[CassandraActiveRecordStrategy[SequencedItem]]:
    made: CassandraActiveRecordStrategy[SequencedItem] = CassandraActiveRecordStrategy(
        active_record_class=BulkRecord, settings=test_settings()
    )
    yield made
    made.close()


@pytest.fixture
def paging_strategy() -> Iterator[CassandraActiveRecordStrategy[SequencedItem]]:
    datastore = CassandraDatastore(settings=test_settings(), tables=(PagingRecord,))
    datastore.setup_connection(make_default=False)
    datastore.setup_tables()
    datastore.truncate_tables()
    yield CassandraActiveRecordStrategy(
        active_record_class=PagingRecord, session=datastore.session, keyspace=TEST_KEYSPACE
    )
    datastore.drop_connection()


def items(sequence_id: Any, positions: range, size: int = 10) -> list[SequencedItem]:
    return [SequencedItem(sequence_id, p, TOPIC, f'{{"p":{p}}}'.ljust(size)) for p in positions]


def test_a_list_spanning_sequences_is_refused_before_writing(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    first, second = uuid4(), uuid4()
    with pytest.raises(InvalidEventError) as caught:
        strategy.append(items(first, range(2)) + items(second, range(1)))
    assert str(first) in str(caught.value) and str(second) in str(caught.value)
    assert "one sequence" in str(caught.value)
    assert strategy.get_items(first) == [] and strategy.get_items(second) == []
    assert strategy.capabilities.transactions_across_sequences is False


def test_positions_outside_bigint_are_refused(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    sequence_id = uuid4()
    for position in (2**63, -(2**63) - 1):
        with pytest.raises(InvalidEventError) as caught:
            strategy.append(SequencedItem(sequence_id, position, TOPIC, "{}"))
        assert str(sequence_id) in str(caught.value)
    strategy.append(SequencedItem(sequence_id, 2**63 - 1, TOPIC, "{}"))
    strategy.append(SequencedItem(sequence_id, -(2**63), TOPIC, "{}"))
    assert [i.position for i in strategy.get_items(sequence_id)] == [-(2**63), 2**63 - 1]


def test_bytes_data_is_refused(strategy: CassandraActiveRecordStrategy[SequencedItem]) -> None:
    sequence_id = uuid4()
    with pytest.raises(InvalidEventError, match="must be str"):
        strategy.append(SequencedItem(sequence_id, 0, TOPIC, b"{}"))  # type: ignore[arg-type]
    assert strategy.get_items(sequence_id) == []


def test_bounds_of_the_wrong_type_are_refused(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    with pytest.raises(InvalidEventError, match="expected int"):
        strategy.get_items(uuid4(), gt="three")
    with pytest.raises(InvalidEventError, match="UUID"):
        strategy.get_items("not-a-uuid")


def test_a_thousand_items_in_one_atomic_append(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    sequence_id = uuid4()
    batch = items(sequence_id, range(1000), size=200)
    strategy.append(batch)
    assert strategy.get_items(sequence_id) == batch


def test_megabytes_in_one_atomic_append(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    """A conditional single-partition batch is not held to batch_size_fail_threshold."""
    sequence_id = uuid4()
    batch = items(sequence_id, range(6), size=1_000_000)
    strategy.append(batch)
    assert strategy.get_items(sequence_id) == batch


def test_an_append_over_the_servers_message_limit_is_refused_and_nothing_written(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    sequence_id = uuid4()
    huge = items(sequence_id, range(20), size=1_000_000)  # 20 MB > 16 MiB per message
    with pytest.raises(InvalidEventError) as caught:
        strategy.append(huge)
    assert "native_transport_max_message_size" in str(caught.value)
    assert str(sequence_id) in str(caught.value)
    assert strategy.get_items(sequence_id) == []


def test_a_long_sequence_is_read_through_several_pages(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    settings = test_settings(fetch_size=700)
    small_pages: CassandraActiveRecordStrategy[SequencedItem] = CassandraActiveRecordStrategy(
        active_record_class=BulkRecord, settings=settings
    )
    try:
        sequence_id = uuid4()
        stored = items(sequence_id, range(3000))
        for start in range(0, 3000, 500):
            small_pages.append(stored[start:start + 500])
        assert small_pages.get_items(sequence_id) == stored
        assert small_pages.get_items(sequence_id, is_ascending=False) == stored[::-1]
        assert small_pages.get_items(sequence_id, gte=1000, limit=1500) == stored[1000:2500]
        assert small_pages.get_items(sequence_id, lt=2999, gt=5, limit=2, is_ascending=False) \
            == [stored[2998], stored[2997]]
    finally:
        small_pages.close()


@pytest.mark.parametrize("page_size", [1, 3, 7, 50, 1000])
def test_everything_is_paged_through_token_ranges(
    paging_strategy: CassandraActiveRecordStrategy[SequencedItem], page_size: int
) -> None:
    lengths = [1, 2, 3, 7, 8, 20, 49, 50, 51] + [1] * 10
    expected = {}
    for length in lengths:
        sequence_id = uuid4()
        expected[sequence_id] = items(sequence_id, range(length))
        paging_strategy.append(expected[sequence_id])
    pages = list(paging_strategy._iter_pages(page_size))
    assert all(0 < len(page) <= page_size for page in pages)
    seen: dict[Any, list[SequencedItem]] = {}
    for page in pages:
        for item in page:
            seen.setdefault(item[0], []).append(item)
    assert seen == expected
    assert sum(len(page) for page in pages) == sum(lengths)
    everything = list(paging_strategy.all_items(page_size=page_size))
    assert len(everything) == sum(lengths)


def test_from_config_with_the_aes_cipher(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("eventstore_aes")
    monkeypatch.delenv("EVENTSTORE_KEYSPACE", raising=False)
    store = EventStore.from_config(
        "cassandra", hosts=["127.0.0.1"], keyspace=TEST_KEYSPACE, cipher="aes",
        cipher_key=os.urandom(32),
    )
    with store:
        account = uuid4()
        events = [DomainEvent(originator_id=account, originator_version=v, secret="s3cr3t-v")
                  for v in range(3)]
        store.append(events)
        assert store.get_domain_events(account) == events
        stored = store.active_record_strategy.get_items(account)
        assert all("s3cr3t" not in item[3] for item in stored)


@pytest.mark.parametrize("record", ["stored_event", "snapshot"])
def test_from_config_with_another_table(record: str) -> None:
    with EventStore.from_config("cassandra", keyspace=TEST_KEYSPACE, record=record) as store:
        event = DomainEvent(originator_id=uuid4(), originator_version=0, n=1)
        store.append(event)
        assert store.get_domain_events(event.originator_id) == [event]  # type: ignore[attr-defined]


def test_from_config_reads_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSTORE_BACKEND", "cassandra")
    monkeypatch.setenv("EVENTSTORE_KEYSPACE", TEST_KEYSPACE)
    monkeypatch.setenv("EVENTSTORE_HOSTS", "127.0.0.1")
    with EventStore.from_config() as store:
        strategy = store.active_record_strategy
        assert isinstance(strategy, CassandraActiveRecordStrategy)
        assert strategy.connection.settings.keyspace == TEST_KEYSPACE
        event = DomainEvent(originator_id=uuid4(), originator_version=0, n=1)
        store.append(event)
        assert store.get_domain_events(event.originator_id) == [event]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("options", "named"),
    [({"record": "bogus"}, "record"), ({"colour": "red"}, "colour"),
     ({"keyspace": "bad-name"}, "keyspace"), ({"hosts": []}, "hosts"),
     # options of the wrong type (before: a raw TypeError or AttributeError, a port given
     # as text accepted, hosts=[1, 2] tried as addresses)
     ({"hosts": 123}, "hosts"), ({"hosts": [1, 2]}, "hosts"), ({"port": "9042"}, "port"),
     ({"port": 9042.5}, "port"), ({"replication_factor": "3"}, "replication_factor"),
     ({"consistency_level": 3}, "consistency_level"), ({"username": 5}, "username"),
     ({"request_timeout": "3"}, "request_timeout"), ({"feed": "yes"}, "feed"),
     ({"partition_size": "3"}, "partition_size"), ({"partition_size": -1}, "partition_size"),
     ({"partition_seconds": "x"}, "partition_seconds"),
     ({"partition_seconds": -1}, "partition_seconds")],
)
def test_from_config_refuses_bad_options(options: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        EventStore.from_config("cassandra", **options)
