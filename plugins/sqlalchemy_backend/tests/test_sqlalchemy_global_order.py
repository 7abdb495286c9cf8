"""The global order on every database: positions in commit order, never an item skipped.

The conformance suite (``GlobalOrderTestCase``) checks the outcome under load; the tests here
provoke the classic flaw deterministically, and check what the design promises besides:
positions without gaps, the counter row, LISTEN/NOTIFY on PostgreSQL, clear errors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventstore_core.exceptions import (
    ConcurrencyError,
    ConfigurationError,
    DataIntegrityError,
    DatastoreError,
)
from eventstore_core.sequenceditem import SequencedItem, StoredEvent
from eventstore_core.subscription import CatchUpSubscription
from sqlalchemy import BigInteger, Connection, Engine, String, Text, Uuid, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy_databases import POSTGRES_URI, SERVER_URIS, sqlite_file_uri

from eventstore_sqlalchemy import (
    SQLAlchemyActiveRecordStrategy,
    SQLAlchemyDatastore,
    SQLAlchemySettings,
    StoredEventRecord,
    TimestampSequencedItemRecord,
    global_position_counters,
)

TOPIC = "eventstore_core.events#DomainEvent"
URIS = {"sqlite_file": sqlite_file_uri("global_order"), **SERVER_URIS}


class OwnBase(DeclarativeBase):
    """Tables of these tests only, so that what they do to counters disturbs no one."""


class GlobalOrderTestRecord(OwnBase):
    """A user's own record class with a global order."""

    __tablename__ = "global_order_test_items"
    sequence_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(255))
    data: Mapped[str] = mapped_column(Text)
    global_position: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)


class NoGlobalOrderRecord(OwnBase):
    """A record class without a global position column: no global order."""

    __tablename__ = "no_global_order_test_items"
    sequence_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(255))
    data: Mapped[str] = mapped_column(Text)


class OldVersionBase(DeclarativeBase):
    pass


class OldVersionTable(OldVersionBase):
    """Declares a global position, but the table in the database was made without one."""

    __tablename__ = "global_order_old_items"
    sequence_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    topic: Mapped[str] = mapped_column(String(255))
    data: Mapped[str] = mapped_column(Text)
    global_position: Mapped[int] = mapped_column(BigInteger)


def item(sequence_id: Any, position: int, data: str = "{}") -> SequencedItem:
    return SequencedItem(sequence_id, position, TOPIC, data)


@pytest.fixture(params=list(URIS))
def uri(request: pytest.FixtureRequest) -> str:
    return URIS[request.param]


def make(uri: str, record: Any = None, **kwargs: Any) -> SQLAlchemyActiveRecordStrategy[Any]:
    if record is not None:
        kwargs["active_record_class"] = record
    return SQLAlchemyActiveRecordStrategy(uri=uri, **kwargs)


def last_position(strategy: SQLAlchemyActiveRecordStrategy[Any]) -> int:
    """The highest global position stored (one query: the test tables grow run by run)."""
    assert strategy.global_position is not None
    query = select(func.coalesce(func.max(strategy.global_position), 0))
    with strategy.current_session().get_bind(clause=strategy.table).connect() as conn:
        return int(conn.execute(query).scalar_one())


# -- the flaw, provoked ----------------------------------------------------------------------
class SequenceLikeStrategy(SQLAlchemyActiveRecordStrategy[Any]):
    """Takes global positions the usual, flawed way: like a database sequence or an
    auto-increment, in a transaction of their own that does not wait for the writer's."""

    def _reserve(self, conn: Connection, count: int) -> int:
        with conn.engine.connect() as other, other.begin():
            return super()._reserve(other, count)

    def _insert_numbered_one(self, conn: Connection, item: Any) -> bool:
        return False  # always through _reserve


class Reader:
    """A subscriber's reads: from its last position, as a catch-up subscription does."""

    def __init__(self, strategy: SQLAlchemyActiveRecordStrategy[Any]) -> None:
        self.strategy = strategy
        self.position = last_position(strategy)
        self.seen: list[Any] = []

    def read(self) -> list[Any]:
        while page := self.strategy.read_all(self.position, 100):
            self.seen.extend(page)
            self.position = page[-1].global_position
        return [ordered.item for ordered in self.seen]


def wait_until_blocked_or_done(engine: Engine, writer: threading.Thread) -> None:
    """Until the second writer waits for the counter's lock (as the server shows), or is done.

    On SQLite the lock wait cannot be seen; it waits for the whole file, from its BEGIN.
    """
    queries = {
        "postgresql": "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE '%%UPDATE global_position_counters%%'",
        "mysql": "SELECT count(*) FROM information_schema.processlist "
        "WHERE info LIKE '%%UPDATE global_position_counters%%' AND id <> connection_id()",
    }
    query = queries.get(engine.dialect.name)
    deadline = time.monotonic() + 30
    while writer.is_alive() and time.monotonic() < deadline:
        if query is None:
            writer.join(0.5)
            return
        with engine.connect() as conn:
            if conn.exec_driver_sql(query).scalar():
                return
        time.sleep(0.01)
    assert not writer.is_alive(), "the second writer neither blocked nor finished"


def provoke(uri: str, strategy_class: Any) -> tuple[list[Any], bool, list[Any], list[Any]]:
    """Writer 1 appends in its own transaction and holds it open; writer 2 appends meanwhile;
    a reader reads; then writer 1 commits, writer 2 finishes, the reader reads on.

    Returns the two items, whether writer 2 was held up by writer 1, what the reader saw
    while writer 1 was open, and what it saw in the end.
    """
    datastore = SQLAlchemyDatastore(SQLAlchemySettings(uri))
    datastore.setup_tables()
    session = Session(datastore.engine)
    first_writer = strategy_class(session=session)
    second_writer = strategy_class(uri=uri)
    reader = Reader(make(uri))
    first, second = item(uuid4(), 0, '{"writer":1}'), item(uuid4(), 0, '{"writer":2}')
    errors: list[BaseException] = []

    def append_second() -> None:
        try:
            second_writer.append(second)
        except BaseException as error:  # reported below
            errors.append(error)

    session.begin()
    try:
        first_writer.append(first)
        writer = threading.Thread(target=append_second)
        writer.start()
        wait_until_blocked_or_done(datastore.engine, writer)
        while_open = reader.read()
        held_up = writer.is_alive()
    finally:
        session.commit()
    writer.join(timeout=60)
    assert not writer.is_alive() and errors == []
    at_the_end = reader.read()
    for strategy in (second_writer, reader.strategy):
        strategy.close()
    session.close()
    datastore.drop_connection()
    return [first, second], held_up, while_open, at_the_end


def test_a_later_commit_never_overtakes_an_open_writer(uri: str) -> None:
    (first, second), held_up, while_open, at_the_end = provoke(
        uri, SQLAlchemyActiveRecordStrategy
    )
    assert held_up  # how: writer 2 takes its positions only once writer 1 is over
    assert second not in while_open, "writer 2's item was readable before writer 1's"
    assert first not in while_open  # not committed yet
    mine = [i for i in at_the_end if i in (first, second)]
    assert mine == [first, second], "both seen, in commit order, nothing skipped"


@pytest.mark.parametrize("server", list(SERVER_URIS))
def test_the_usual_design_fails_that_test(server: str) -> None:
    """The test above detects the flaw: positions taken like a sequence skip writer 1's item.

    (Not on SQLite, which lets one writer at a time into the whole file.)
    """
    (first, second), held_up, while_open, at_the_end = provoke(
        SERVER_URIS[server], SequenceLikeStrategy
    )
    assert not held_up
    assert second in while_open
    assert first not in at_the_end  # skipped for ever: it committed below what was read


# -- what the design promises besides ------------------------------------------------------
def test_positions_have_no_gaps_a_failed_or_rolled_back_write_gives_them_back(uri: str) -> None:
    strategy = make(uri, GlobalOrderTestRecord)
    assert strategy.datastore is not None
    sequence_id = uuid4()
    strategy.append(item(sequence_id, 0))
    with pytest.raises(ConcurrencyError):
        strategy.append([item(sequence_id, 1), item(sequence_id, 0)])
    session = Session(strategy.datastore.engine)
    in_session = SQLAlchemyActiveRecordStrategy(
        active_record_class=GlobalOrderTestRecord, session=session
    )
    session.begin()
    in_session.append([item(sequence_id, 1), item(sequence_id, 2)])
    session.rollback()
    strategy.append([item(sequence_id, 1), item(sequence_id, 2)])
    mine = [o for o in strategy.read_all(0, 100_000) if o.item[0] == sequence_id]
    positions = [o.global_position for o in mine]
    assert [o.item[1] for o in mine] == [0, 1, 2]
    assert positions == [positions[0], positions[0] + 1, positions[0] + 2]
    session.close()
    strategy.close()


@pytest.mark.parametrize("server", list(SERVER_URIS))
def test_counter_row_is_added_after_what_the_table_holds(server: str) -> None:
    """A table whose counter row is missing continues after its highest position.

    (SQLite has no counter rows: its inserts always continue after the highest position.)
    """
    strategy = make(SERVER_URIS[server], GlobalOrderTestRecord)
    sequence_id = uuid4()
    strategy.append([item(sequence_id, 0), item(sequence_id, 1)])
    highest = last_position(strategy)
    assert strategy.datastore is not None
    with strategy.datastore.engine.begin() as conn:
        conn.execute(
            global_position_counters.delete().where(
                global_position_counters.c.table_name == GlobalOrderTestRecord.__tablename__
            )
        )
    strategy.append(item(sequence_id, 2))
    assert strategy.read_all(highest) == [(highest + 1, item(sequence_id, 2))]
    strategy.close()


@pytest.mark.parametrize("server", list(SERVER_URIS))
def test_counter_set_back_by_hand_is_a_data_integrity_error(server: str) -> None:
    strategy = make(SERVER_URIS[server], GlobalOrderTestRecord)
    sequence_id = uuid4()
    strategy.append([item(sequence_id, 0), item(sequence_id, 1)])
    counter = global_position_counters.c
    assert strategy.datastore is not None
    with strategy.datastore.engine.begin() as conn:
        conn.execute(global_position_counters.update().where(
            counter.table_name == GlobalOrderTestRecord.__tablename__
        ).values(last_position=counter.last_position - 1))
    for batch in ([item(sequence_id, 2)], [item(sequence_id, 2), item(sequence_id, 3)]):
        with pytest.raises(DataIntegrityError, match="global_position_counters"):
            strategy.append(batch)
    with strategy.datastore.engine.begin() as conn:  # put it right again
        conn.execute(global_position_counters.update().where(
            counter.table_name == GlobalOrderTestRecord.__tablename__
        ).values(last_position=counter.last_position + 1))
    strategy.append(item(sequence_id, 2))
    strategy.close()


def test_every_library_event_table_has_a_global_order(uri: str) -> None:
    from decimal import Decimal

    stored_events = make(uri, StoredEventRecord, sequenced_item_class=StoredEvent)
    timestamped = make(uri, TimestampSequencedItemRecord)
    for strategy, one in (
        (stored_events, StoredEvent(uuid4(), 0, TOPIC, "{}")),
        (timestamped, SequencedItem(uuid4(), Decimal("1795757486.000001"), TOPIC, "{}")),
    ):
        assert strategy.capabilities.global_order
        start = last_position(strategy)
        strategy.append(one)
        assert strategy.read_all(start) == [(start + 1, one)]
        assert strategy.read_all(start, limit=0) == []
        with pytest.raises(ValueError):
            strategy.read_all(after="0")  # type: ignore[arg-type]
        strategy.close()


def test_table_without_global_position_has_no_global_order(uri: str) -> None:
    strategy = make(uri, NoGlobalOrderRecord)
    assert not strategy.capabilities.global_order
    strategy.append(item(uuid4(), 0))  # writes as before, without a counter
    with pytest.raises(NotImplementedError, match="global_position"):
        strategy.read_all()
    with pytest.raises(ConfigurationError):
        CatchUpSubscription(strategy)
    strategy.close()


def test_table_of_an_earlier_version_gets_a_clear_error(uri: str) -> None:
    """A table made before the global order (no global_position column): say what to do."""
    datastore = SQLAlchemyDatastore(SQLAlchemySettings(uri), tables=(OldVersionTable,))
    with datastore.engine.begin() as conn:  # as the earlier version made it
        conn.execute(text("DROP TABLE IF EXISTS global_order_old_items"))
        conn.execute(text(
            "CREATE TABLE global_order_old_items (sequence_id CHAR(32), position BIGINT, "
            "topic VARCHAR(255), data TEXT, PRIMARY KEY (sequence_id, position))"
        ))
    datastore.setup_tables()  # leaves the existing table as it is
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        active_record_class=OldVersionTable, session=datastore.session
    )
    with pytest.raises(DatastoreError, match="earlier version.*global_position"):
        strategy.append(item(uuid4(), 0))
    datastore.drop_tables()
    datastore.drop_connection()


# -- waking up subscribers -----------------------------------------------------------------
@pytest.fixture
def postgres_strategy() -> Iterator[SQLAlchemyActiveRecordStrategy[Any]]:
    strategy = make(POSTGRES_URI, GlobalOrderTestRecord)
    yield strategy
    strategy.close()


def test_postgres_subscriber_is_woken_by_notify(
    postgres_strategy: SQLAlchemyActiveRecordStrategy[Any],
) -> None:
    """A subscription that would poll every 30 s sees a new item at once: NOTIFY woke it."""
    writer = make(POSTGRES_URI, GlobalOrderTestRecord)
    subscription = CatchUpSubscription(
        postgres_strategy, after=last_position(postgres_strategy), poll_interval=30, timeout=60
    )
    got: list[float] = []

    def follow() -> None:
        for _ in subscription:
            got.append(time.monotonic())
            subscription.stop()

    follower = threading.Thread(target=follow)
    follower.start()
    time.sleep(0.5)  # the subscriber has read everything and waits
    written = time.monotonic()
    writer.append(item(uuid4(), 0))
    follower.join(timeout=20)
    subscription.stop()
    writer.close()
    assert got and got[0] - written < 5, "woken by the notification, not by a 30 s poll"


def test_postgres_wait_returns_after_the_timeout_without_writes(
    postgres_strategy: SQLAlchemyActiveRecordStrategy[Any],
) -> None:
    postgres_strategy.wait_for_items(0, 5)  # the first call starts listening, returns at once
    started = time.monotonic()
    postgres_strategy.wait_for_items(0, 0.3)
    assert 0.25 < time.monotonic() - started < 3


@pytest.mark.parametrize("where", ["sqlite_file", "mariadb"])
def test_elsewhere_subscribers_poll(where: str) -> None:
    strategy = make(URIS[where], GlobalOrderTestRecord)
    started = time.monotonic()
    strategy.wait_for_items(0, 10)
    assert time.monotonic() - started < 1
    strategy.close()


@pytest.mark.parametrize("record", [GlobalOrderTestRecord, NoGlobalOrderRecord])
def test_postgres_lists_go_in_through_copy_with_or_without_global_order(
    record: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventstore_sqlalchemy import postgres

    copies: list[int] = []
    write_rows = postgres.write_rows

    def counted(cursor: Any, statement: Any, items: Any, first: int = 0) -> None:
        copies.append(len(items))
        write_rows(cursor, statement, items, first)

    monkeypatch.setattr(postgres, "write_rows", counted)
    strategy = make(POSTGRES_URI, record)
    sequence_id = uuid4()
    strategy.append([item(sequence_id, p) for p in range(5)])  # (the table's first write)
    strategy.append(item(sequence_id, 5))  # one item: an INSERT
    strategy.append([item(sequence_id, p) for p in range(6, 9)])  # the direct path
    with pytest.raises(ConcurrencyError):
        strategy.append([item(sequence_id, p) for p in range(8, 10)])
    assert copies == [5, 3, 2]
    assert [i.position for i in strategy.get_items(sequence_id)] == list(range(9))
    if strategy.global_position is not None:
        ordered = [o for o in strategy.read_all(0, limit=10_000) if o.item[0] == sequence_id]
        assert [o.item.position for o in ordered] == list(range(9))
        positions = [o.global_position for o in ordered]
        assert positions == list(range(positions[0], positions[0] + 9))
    strategy.close()
