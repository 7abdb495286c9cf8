"""No call of the datastore or the strategy commits or rolls back the caller's transaction.

On every database (SQLite in memory and in a file, PostgreSQL, MariaDB): work the caller
flushed in its session and has not committed survives every datastore and strategy call, and
is stored once the caller commits. DDL with the session's transaction open runs inside it
(SQLite, PostgreSQL) or is refused before anything is touched (MariaDB, which would commit
the transaction at a CREATE or DROP).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from eventstore_core.exceptions import ConcurrencyError, DatastoreError
from eventstore_core.sequenceditem import SequencedItem
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy_databases import all_uris

from eventstore_sqlalchemy import (
    IntegerSequencedItemRecord,
    SQLAlchemyActiveRecordStrategy,
    SQLAlchemyDatastore,
    SQLAlchemySettings,
)

TOPIC = "eventstore_core.events#DomainEvent"


class CallerBase(DeclarativeBase):
    pass


class CallerWork(CallerBase):
    """The caller's own table, whose rows the caller flushes and commits itself."""

    __tablename__ = "callers_own_work"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(String(50))


def make_datastore(name: str) -> SQLAlchemyDatastore:
    made = SQLAlchemyDatastore(
        SQLAlchemySettings(all_uris()[name]), tables=(IntegerSequencedItemRecord, CallerWork)
    )
    made.setup_tables()
    return made


@pytest.fixture(params=list(all_uris()))
def datastore(request: pytest.FixtureRequest) -> Iterator[SQLAlchemyDatastore]:
    made = make_datastore(request.param)
    yield made
    made.drop_connection()


def item(sequence_id: Any, position: int) -> SequencedItem:
    return SequencedItem(sequence_id, position, TOPIC, "{}")


def flush_own_work(session: Session) -> int:
    work_id = random.randrange(1, 2**31)
    session.add(CallerWork(id=work_id, note="the caller's"))
    session.flush()  # auto-begins the session's transaction; not committed
    return work_id


def test_flushed_work_survives_every_call_and_the_callers_commit_stores_it(
    datastore: SQLAlchemyDatastore,
) -> None:
    session = datastore.session()
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=datastore.session
    )
    work_id = flush_own_work(session)
    sequence_id = uuid4()
    mariadb = datastore.engine.dialect.name in ("mysql", "mariadb")
    if mariadb:
        for ddl in (datastore.setup_tables, datastore.drop_tables):
            with pytest.raises(DatastoreError, match="transaction open"):
                ddl()
    else:
        datastore.setup_tables()  # the tables exist: checked inside the transaction
    strategy.append(item(sequence_id, 0))
    strategy.append([item(sequence_id, 1), item(sequence_id, 2)])
    with pytest.raises(ConcurrencyError):
        strategy.append(item(sequence_id, 1))
    assert [i.position for i in strategy.get_items(sequence_id)] == [0, 1, 2]
    assert [i.position for i in strategy.get_items(sequence_id, gt=0, limit=1)] == [1]
    assert any(i.sequence_id == sequence_id for i in strategy.all_items())
    strategy.read_all(0, 10)
    assert session.in_transaction(), "still the caller's transaction"
    assert session.get(CallerWork, work_id) is not None
    session.commit()
    session.close()
    check = Session(datastore.engine)
    assert check.scalars(select(CallerWork.note).where(CallerWork.id == work_id)).all() == [
        "the caller's"
    ]
    reader: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(session=check)
    assert [i.position for i in reader.get_items(sequence_id)] == [0, 1, 2]
    check.close()


@pytest.mark.parametrize("name", [name for name in all_uris() if name != "mariadb"])
def test_ddl_inside_the_callers_transaction_is_undone_with_it(name: str) -> None:
    """(MariaDB refuses DDL in an open transaction: the test above.)"""
    datastore = make_datastore(name)
    session = datastore.session()
    work_id = flush_own_work(session)
    datastore.drop_tables()  # inside the transaction
    session.rollback()  # the caller's choice: the tables and nothing else come back
    session.close()
    check = Session(datastore.engine)
    assert check.get(CallerWork, work_id) is None
    assert check.scalars(select(CallerWork.id).limit(1)).all() is not None  # table is there
    check.close()
    datastore.drop_connection()


def test_in_memory_sqlite_refuses_ddl_while_another_session_holds_work() -> None:
    """The defect that lost data: a session of its own (not the datastore's) has flushed
    work on the in-memory database's one connection; ``setup_tables()`` is refused, touches
    nothing, and the caller's commit stores the work."""
    datastore = SQLAlchemyDatastore(
        SQLAlchemySettings("sqlite:///:memory:"), tables=(IntegerSequencedItemRecord, CallerWork)
    )
    datastore.setup_tables()
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=datastore.session
    )
    session = Session(datastore.engine)
    work_id = flush_own_work(session)
    with pytest.raises(DatastoreError, match="transaction open"):
        datastore.setup_tables()
    with pytest.raises(DatastoreError, match="transaction open"):  # its own transaction too
        strategy.append(item(uuid4(), 0))
    assert session.in_transaction()
    session.commit()
    session.close()
    check = Session(datastore.engine)
    assert check.get(CallerWork, work_id) is not None
    check.close()
    datastore.drop_connection()
