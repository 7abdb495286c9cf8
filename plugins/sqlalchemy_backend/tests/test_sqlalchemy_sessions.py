"""The strategy with a session that the user (or a web framework) provides."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from eventstore_core.exceptions import ConcurrencyError
from eventstore_core.sequenceditem import SequencedItem
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy_databases import SERVER_URIS, sqlite_file_uri

from eventstore_sqlalchemy import (
    SQLAlchemyActiveRecordStrategy,
    SQLAlchemyDatastore,
    SQLAlchemySettings,
)

TOPIC = "eventstore_core.events#DomainEvent"
URIS = {"sqlite_file": sqlite_file_uri("sessions"), **SERVER_URIS}


def item(sequence_id: Any, position: int) -> SequencedItem:
    return SequencedItem(sequence_id, position, TOPIC, "{}")


@pytest.fixture(params=list(URIS))
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    datastore = SQLAlchemyDatastore(SQLAlchemySettings(URIS[request.param]))
    datastore.setup_tables()
    yield datastore.engine
    datastore.drop_connection()


def stored(engine: Engine, sequence_id: Any) -> list[int]:
    """Positions committed for a sequence, as another connection sees them."""
    reader: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=Session(engine)
    )
    return [i.position for i in reader.get_items(sequence_id)]


def test_plain_session_is_left_without_a_transaction(engine: Engine) -> None:
    session = Session(engine)
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=session
    )
    sequence_id = uuid4()
    strategy.append([item(sequence_id, 0), item(sequence_id, 1)])
    assert not session.in_transaction()
    assert [i.position for i in strategy.get_items(sequence_id)] == [0, 1]
    assert not session.in_transaction()
    with pytest.raises(ConcurrencyError):
        strategy.append(item(sequence_id, 1))
    assert not session.in_transaction()
    assert stored(engine, sequence_id) == [0, 1]


def test_request_scoped_session_of_a_web_framework(engine: Engine) -> None:
    current_request = {"id": 1}
    session = scoped_session(sessionmaker(bind=engine), scopefunc=lambda: current_request["id"])
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=session
    )
    sequence_id = uuid4()
    for request_id in range(1, 4):
        current_request["id"] = request_id
        strategy.append(item(sequence_id, request_id))
        session.remove()  # the framework's end of request
    assert stored(engine, sequence_id) == [1, 2, 3]


def test_in_the_callers_transaction_the_callers_commit_decides(engine: Engine) -> None:
    session = Session(engine)
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=session
    )
    kept, dropped = uuid4(), uuid4()
    with session.begin():
        strategy.append(item(kept, 0))
        assert strategy.get_items(kept) == [item(kept, 0)]  # seen inside the transaction
        assert stored(engine, kept) == []  # not yet committed
    assert stored(engine, kept) == [0]

    session.begin()
    strategy.append(item(dropped, 0))
    session.rollback()
    assert stored(engine, dropped) == []


def test_conflict_inside_the_callers_transaction_undoes_only_the_append(engine: Engine) -> None:
    session = Session(engine)
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=session
    )
    sequence_id = uuid4()
    strategy.append(item(sequence_id, 0))
    with session.begin():
        with pytest.raises(ConcurrencyError):
            strategy.append([item(sequence_id, 1), item(sequence_id, 0)])
        strategy.append(item(sequence_id, 1))  # the transaction is still usable
        strategy.append(item(sequence_id, 2))
    assert stored(engine, sequence_id) == [0, 1, 2]


def test_an_auto_begun_transaction_is_the_callers_too(engine: Engine) -> None:
    """The append happens inside it; the caller's commit stores it (never ours)."""
    session = Session(engine)
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=session
    )
    session.execute(text("SELECT 1"))  # the application used the session: auto-begun
    assert session.in_transaction()
    sequence_id = uuid4()
    strategy.append(item(sequence_id, 0))
    assert session.in_transaction()
    assert stored(engine, sequence_id) == []
    session.commit()
    assert stored(engine, sequence_id) == [0]


def test_session_bound_to_an_outer_transaction_as_in_test_fixtures(engine: Engine) -> None:
    """SQLAlchemy's "join a session into an external transaction" recipe."""
    sequence_id = uuid4()
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
            session=session
        )
        strategy.append([item(sequence_id, 0), item(sequence_id, 1)])
        with pytest.raises(ConcurrencyError):
            strategy.append(item(sequence_id, 1))
        assert [i.position for i in strategy.get_items(sequence_id)] == [0, 1]
        session.close()
        outer.rollback()
    assert stored(engine, sequence_id) == []
