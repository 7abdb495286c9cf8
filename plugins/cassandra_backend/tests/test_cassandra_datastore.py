"""Settings, the datastore and connection failures, on the real server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from uuid import uuid4

import pytest
from cassandra_server import TEST_KEYSPACE, test_settings
from eventstore_core.exceptions import ConfigurationError, DatastoreError
from eventstore_core.sequenceditem import SequencedItem, StoredEvent

from eventstore_cassandra import datastore as datastore_module
from eventstore_cassandra.activerecords import (
    CassandraActiveRecordStrategy,
    CassandraRecord,
    StoredEventRecord,
)
from eventstore_cassandra.datastore import CassandraDatastore, CassandraSettings

DOCUMENT_KEYSPACE = TEST_KEYSPACE + "_doc"


@pytest.fixture
def free_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections but never answers a byte."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def test_the_documents_example_with_its_default_connection() -> None:
    """The user's document's Cassandra example, on a keyspace of its own."""
    aggregate1 = uuid4()
    stored_event1 = StoredEvent(aggregate1, 0, "eventstore_core.events#DomainEvent", '{"a":1}')
    cassandra_datastore = CassandraDatastore(
        settings=CassandraSettings(keyspace=DOCUMENT_KEYSPACE), tables=(StoredEventRecord,)
    )
    cassandra_datastore.setup_connection()
    cassandra_datastore.setup_tables()
    try:
        strategy = CassandraActiveRecordStrategy(
            active_record_class=StoredEventRecord, sequenced_item_class=StoredEvent
        )
        assert strategy.datastore is None  # it follows the default connection
        assert strategy.get_items(aggregate1) == []
        strategy.append(stored_event1)
        assert strategy.get_items(aggregate1)[0] == stored_event1
    finally:
        cassandra_datastore.drop_tables()
        cassandra_datastore.drop_connection()
    assert datastore_module.get_default() is None
    with pytest.raises(DatastoreError, match="setup_connection"):
        strategy.get_items(aggregate1)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASSANDRA_HOSTS", " 10.1.1.1, node2 ,")
    monkeypatch.setenv("CASSANDRA_PORT", "9999")
    monkeypatch.setenv("CASSANDRA_KEYSPACE", "shop")
    monkeypatch.setenv("CASSANDRA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("CASSANDRA_CONSISTENCY_LEVEL", "quorum")
    monkeypatch.setenv("CASSANDRA_USERNAME", "app")
    settings = CassandraSettings()
    assert settings.hosts == ("10.1.1.1", "node2")
    assert settings.port == 9999
    assert settings.keyspace == "shop"
    assert settings.replication() == {"class": "SimpleStrategy", "replication_factor": 3}
    assert settings.consistency_level == "QUORUM"
    assert settings.username == "app"
    assert settings.endpoints == "10.1.1.1:9999, node2:9999"
    assert CassandraSettings(keyspace="other").keyspace == "other"  # arguments win


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOSTS", "PORT", "KEYSPACE", "CONSISTENCY_LEVEL", "REPLICATION_FACTOR"):
        monkeypatch.delenv(f"CASSANDRA_{name}", raising=False)
    settings = CassandraSettings()
    assert (settings.hosts, settings.port, settings.keyspace) == (("127.0.0.1",), 9042,
                                                                  "eventstore")
    assert settings.consistency_level == "LOCAL_QUORUM"
    assert settings.serial_consistency_level == "LOCAL_SERIAL"


@pytest.mark.parametrize(
    ("env", "value"),
    [("CASSANDRA_PORT", "ninety"), ("CASSANDRA_REPLICATION_FACTOR", "x")],
)
def test_bad_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigurationError, match=env):
        CassandraSettings()


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"keyspace": "no-dashes"}, "keyspace"),
        ({"port": 70000}, "port"),
        ({"hosts": []}, "hosts"),
        ({"consistency_level": "MOST"}, "consistency_level"),
        ({"serial_consistency_level": "QUORUM"}, "serial_consistency_level"),
        ({"replication_strategy": "Everywhere"}, "replication_strategy"),
        ({"replication_factor": 0}, "replication_factor"),
        ({"connect_timeout": -1}, "connect_timeout"),
        ({"feed_delay": 0.5, "feed_write_window": 1.0}, "feed_delay"),
        ({"feed": "yes"}, "feed"),
    ],
)
def test_bad_settings_name_the_field(arguments: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        CassandraSettings(**arguments)  # type: ignore[arg-type]


def test_the_password_is_never_shown(monkeypatch: pytest.MonkeyPatch, free_port: int) -> None:
    # Before: repr(CassandraSettings(password=...)) printed it, and so did every message or
    # log line that showed the settings or a connection.
    secret = "s3cret-Pa55word"
    settings = CassandraSettings(username="app", password=secret, port=free_port,
                                 connect_timeout=1)
    monkeypatch.setenv("CASSANDRA_PASSWORD", secret)
    from_env = CassandraSettings(username="app")
    assert from_env.password == secret
    for shown in (repr(settings), str(settings), repr(from_env),
                  repr(datastore_module.CassandraConnection(session=None, settings=settings))):  # type: ignore[arg-type]
        assert secret not in shown
        assert "app" in shown  # the rest is still there
    with pytest.raises(DatastoreError) as caught:
        CassandraDatastore(settings=settings).setup_connection()
    assert secret not in str(caught.value) and secret not in repr(caught.value)


def test_no_server_is_a_datastore_error_naming_host_and_port(free_port: int) -> None:
    datastore = CassandraDatastore(settings=CassandraSettings(port=free_port, connect_timeout=2))
    started = time.monotonic()
    with pytest.raises(DatastoreError) as caught:
        datastore.setup_connection()
    assert time.monotonic() - started < 10
    assert f"127.0.0.1:{free_port}" in str(caught.value)


def test_a_server_that_never_answers_fails_within_the_connect_timeout(silent_port: int) -> None:
    settings = CassandraSettings(port=silent_port, connect_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(DatastoreError) as caught:
        CassandraActiveRecordStrategy(settings=settings)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"took {elapsed:.1f} s"
    assert f"127.0.0.1:{silent_port}" in str(caught.value)


def test_missing_table_says_to_set_up_tables() -> None:
    class NeverCreated(CassandraRecord):
        table_name = "never_created"

    datastore = CassandraDatastore(settings=test_settings(), tables=())
    datastore.setup_connection(make_default=False)
    datastore.setup_tables()  # the keyspace only
    try:
        strategy: CassandraActiveRecordStrategy[SequencedItem] = CassandraActiveRecordStrategy(
            active_record_class=NeverCreated, session=datastore.session, keyspace=TEST_KEYSPACE
        )
        with pytest.raises(DatastoreError, match="setup_tables"):
            strategy.get_items(uuid4())
        with pytest.raises(DatastoreError, match="setup_tables"):
            strategy.append(SequencedItem(uuid4(), 0, "t", "{}"))
    finally:
        datastore.drop_connection()


def test_datastore_session_before_connecting_is_a_clear_error() -> None:
    with pytest.raises(DatastoreError, match="setup_connection"):
        CassandraDatastore(settings=test_settings()).session  # noqa: B018


def test_strategy_without_default_connection_makes_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CASSANDRA_KEYSPACE", TEST_KEYSPACE)
    assert datastore_module.get_default() is None
    strategy: CassandraActiveRecordStrategy[SequencedItem] = CassandraActiveRecordStrategy()
    try:
        assert strategy.datastore is not None
        sequence_id = uuid4()
        strategy.append(SequencedItem(sequence_id, 0, "t", "{}"))
        assert len(strategy.get_items(sequence_id)) == 1
    finally:
        strategy.close()


@pytest.mark.parametrize(
    "attributes",
    [
        {"table_name": "bad name"},
        {"table_name": "ok", "column_names": ("a", "b", "c")},
        {"table_name": "ok", "column_names": ("a", "a", "c", "d")},
        {"table_name": "ok", "column_names": ("a", "b", 'c"; DROP', "d")},
    ],
)
def test_bad_record_descriptions_are_refused(attributes: dict[str, object]) -> None:
    record = type("BadRecord", (CassandraRecord,), attributes)
    with pytest.raises(TypeError):
        CassandraDatastore(settings=test_settings(), tables=(record,))
