"""The core's conformance suite on SQLite (file and memory), PostgreSQL and MariaDB.

Each database runs it twice: with ``SequencedItem`` in ``integer_sequenced_items`` and with
``StoredEvent`` in ``stored_events``.
"""

from __future__ import annotations

from typing import Any

from eventstore_core.sequenceditem import SequencedItem, StoredEvent
from eventstore_core.testing import ActiveRecordStrategyTestCase
from sqlalchemy_databases import MYSQL_URI, POSTGRES_URI, sqlite_file_uri

from eventstore_sqlalchemy import (
    IntegerSequencedItemRecord,
    SQLAlchemyActiveRecordStrategy,
    SQLAlchemyDatastore,
    SQLAlchemySettings,
    StoredEventRecord,
)


class _IntegerItems:
    item_class: Any = SequencedItem
    record_class: Any = IntegerSequencedItemRecord


class _StoredEvents:
    item_class: Any = StoredEvent
    record_class: Any = StoredEventRecord


class _OnURI:
    """A new strategy, with its own engine, on the class's database for each call."""

    uri: str
    item_class: Any
    record_class: Any

    def create_strategy(self) -> SQLAlchemyActiveRecordStrategy[Any]:
        return SQLAlchemyActiveRecordStrategy(
            sequenced_item_class=self.item_class,
            active_record_class=self.record_class,
            uri=self.uri,
        )


class _InMemory:
    """Strategies sharing one in-memory SQLite database (it lives in one connection)."""

    processes_share_store = False
    item_class: Any
    record_class: Any
    datastore: SQLAlchemyDatastore | None = None

    def create_strategy(self) -> SQLAlchemyActiveRecordStrategy[Any]:
        cls = type(self)
        if cls.datastore is None:
            cls.datastore = SQLAlchemyDatastore(
                SQLAlchemySettings("sqlite:///:memory:"), tables=(self.record_class,)
            )
            cls.datastore.setup_tables()
        return SQLAlchemyActiveRecordStrategy(
            sequenced_item_class=self.item_class,
            active_record_class=self.record_class,
            session=cls.datastore.session,
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
