"""Driver errors become the project's exceptions, with messages that say what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventstore_core.exceptions import (
    ConfigurationError,
    DataIntegrityError,
    DatastoreError,
)
from eventstore_core.sequenceditem import SequencedItem, StoredEvent
from sqlalchemy.orm import Session
from sqlalchemy_databases import MYSQL_URI, POSTGRES_URI

from eventstore_sqlalchemy import (
    IntegerSequencedItemRecord,
    SQLAlchemyActiveRecordStrategy,
    SQLAlchemyDatastore,
    SQLAlchemySettings,
)

TOPIC = "eventstore_core.events#DomainEvent"
# Nothing listens on port 1 of this machine.
UNREACHABLE = {
    "postgresql": "postgresql+psycopg://eventstore:s3cret-pw@127.0.0.1:1/eventstore_test",
    "mariadb": "mysql+pymysql://eventstore:s3cret-pw@127.0.0.1:1/eventstore_test",
}


@pytest.mark.parametrize("uri", list(UNREACHABLE.values()), ids=list(UNREACHABLE))
def test_unreachable_server_is_datastore_error_naming_host_not_password(uri: str) -> None:
    with pytest.raises(DatastoreError) as caught:
        SQLAlchemyActiveRecordStrategy(uri=uri)
    message = str(caught.value)
    assert "127.0.0.1:1" in message
    assert "s3cret-pw" not in message and "***" in message

    # Also when the session came from elsewhere and the first use is a write or a read.
    datastore = SQLAlchemyDatastore(SQLAlchemySettings(uri))
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=datastore.session
    )
    with pytest.raises(DatastoreError, match="127.0.0.1:1"):
        strategy.append(SequencedItem(uuid4(), 0, TOPIC, "{}"))
    with pytest.raises(DatastoreError, match="127.0.0.1:1"):
        strategy.get_items(uuid4())
    with pytest.raises(DatastoreError, match="127.0.0.1:1"):
        list(strategy.all_items())


@pytest.mark.parametrize("uri", [POSTGRES_URI, MYSQL_URI], ids=["postgresql", "mariadb"])
def test_wrong_password_is_datastore_error(uri: str) -> None:
    wrong = uri.replace("eventstore:eventstore@", "eventstore:not-the-password@")
    with pytest.raises(DatastoreError) as caught:
        SQLAlchemyActiveRecordStrategy(uri=wrong)
    assert "not-the-password" not in str(caught.value)


def test_bad_uri_and_missing_driver_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="not a database URL"):
        SQLAlchemySettings("no url at all")
    with pytest.raises(ConfigurationError, match="no driver"):
        SQLAlchemyActiveRecordStrategy(uri="postgresql+nosuchdriver://u:p@127.0.0.1/db")


def test_missing_table_says_how_to_create_it(tmp_path: Path) -> None:
    datastore = SQLAlchemyDatastore(SQLAlchemySettings(f"sqlite:///{tmp_path / 'x.db'}"))
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=datastore.session
    )
    with pytest.raises(DatastoreError, match="setup_tables"):
        strategy.get_items(uuid4())
    with pytest.raises(DatastoreError, match="setup_tables"):
        strategy.append(SequencedItem(uuid4(), 0, TOPIC, "{}"))


def test_corrupt_stored_row_is_data_integrity_error(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'x.db'}"
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(uri=uri)
    assert strategy.datastore is not None
    with strategy.datastore.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO integer_sequenced_items VALUES ('not-a-uuid', 0, 't', '{}', 1)"
        )
    with pytest.raises(DataIntegrityError, match="integer_sequenced_items"):
        list(strategy.all_items())
    with pytest.raises(DataIntegrityError, match="integer_sequenced_items"):
        strategy.read_all()
    strategy.close()


def test_record_class_must_match_the_item_class(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="originator_id"):
        SQLAlchemyActiveRecordStrategy(
            sequenced_item_class=StoredEvent,
            active_record_class=IntegerSequencedItemRecord,
            session=Session(),
        )


def test_a_connection_the_server_dropped_is_replaced_not_reused() -> None:
    """PostgreSQL ends the strategy's connections (a restart, a proxy's idle timeout): at
    most the next call fails, as a DatastoreError, and the calls after it work on new
    connections, for reads and for lists of items (the short way on DB-API connections)."""
    import psycopg

    name = f"eventstore-dropped-{uuid4().hex[:12]}"  # only this test's connections are ended
    separator = "&" if "?" in POSTGRES_URI else "?"
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=f"{POSTGRES_URI}{separator}application_name={name}"
    )
    sequence_id = uuid4()
    strategy.append([SequencedItem(sequence_id, n, TOPIC, "{}") for n in range(2)])
    assert len(strategy.get_items(sequence_id)) == 2
    assert strategy.datastore is not None
    url = strategy.datastore.engine.url
    conninfo = (
        f"host={url.host} port={url.port} user={url.username} password={url.password} "
        f"dbname={url.database}"
    )

    def drop_other_connections() -> None:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            ).fetchone()
        assert ended is not None and ended[0] >= 1

    for call in (
        lambda: strategy.get_items(sequence_id),
        lambda: strategy.append([SequencedItem(sequence_id, n, TOPIC, "{}") for n in (2, 3)]),
    ):
        drop_other_connections()
        failures = 0
        for _ in range(2):
            try:
                call()
                break
            except DatastoreError:
                failures += 1
        assert failures == 1  # the call on the ended connection; then a new one
    assert [item.position for item in strategy.get_items(sequence_id)] == [0, 1, 2, 3]
    strategy.close()
