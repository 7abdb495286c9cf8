"""The user's document's SQLAlchemy example, as written, on every database."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from eventstore_core.sequenceditem import StoredEvent
from sqlalchemy import BigInteger, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eventstore_sqlalchemy.activerecords import (
    SQLAlchemyActiveRecordStrategy,
    StoredEventRecord,
)
from eventstore_sqlalchemy.datastore import SQLAlchemyDatastore, SQLAlchemySettings


def run_document_example(uri: str) -> None:
    aggregate1 = uuid4()
    stored_event1 = StoredEvent(
        originator_id=aggregate1,
        originator_version=0,
        event_type="eventsourcing.domain.model.events#DomainEvent",
        state='{"foo":"bar"}',
    )

    settings = SQLAlchemySettings(uri=uri)
    datastore = SQLAlchemyDatastore(settings=settings, tables=(StoredEventRecord,))
    datastore.setup_connection()
    datastore.setup_tables()

    active_record_strategy = SQLAlchemyActiveRecordStrategy(
        sequenced_item_class=StoredEvent,
        active_record_class=StoredEventRecord,
        session=datastore.session,
    )
    active_record_strategy.append(stored_event1)
    results = active_record_strategy.get_items(aggregate1)
    assert len(results) == 1
    assert results[0] == stored_event1

    datastore.drop_connection()


def test_document_example_in_memory() -> None:
    run_document_example("sqlite:///:memory:")


def test_document_example_on_every_database(any_uri: str) -> None:
    run_document_example(any_uri)


class OwnBase(DeclarativeBase):
    """A user's own declarative base, as the document suggests."""


class OwnStoredEventRecord(OwnBase):
    """A user's own record class (its own table, so that dropping it disturbs no one)."""

    __tablename__ = "own_stored_events"

    originator_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    originator_version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(Text)


def test_own_record_class_and_dropping_and_recreating_tables(any_uri: str) -> None:
    datastore = SQLAlchemyDatastore(SQLAlchemySettings(any_uri), tables=(OwnStoredEventRecord,))
    datastore.setup_tables()
    datastore.setup_tables()  # again: a no-op
    strategy = SQLAlchemyActiveRecordStrategy(
        sequenced_item_class=StoredEvent,
        active_record_class=OwnStoredEventRecord,
        session=datastore.session,
    )
    item = StoredEvent(uuid4(), 0, "m#T", "{}")
    strategy.append(item)
    assert strategy.get_items(item.originator_id) == [item]
    datastore.drop_tables()
    datastore.setup_tables()
    assert strategy.get_items(item.originator_id) == []
    datastore.drop_tables()
    datastore.drop_connection()


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSTORE_URI", "sqlite:///from-env.sqlite3")
    assert SQLAlchemySettings().url.database == "from-env.sqlite3"
    monkeypatch.delenv("EVENTSTORE_URI")
    assert SQLAlchemySettings().url.database == "eventstore.sqlite3"
    assert SQLAlchemySettings("sqlite:///given.db").url.database == "given.db"
