"""The global order on every database: a position once read never has an item appear below.

The conformance suite (``GlobalOrderTestCase``) checks the outcome under load; the tests here
provoke the classic flaw deterministically, follow 16 writer processes with a subscriber, and
check what the design promises besides: writers side by side on PostgreSQL, positions without
gaps and the counter row on MariaDB, LISTEN/NOTIFY on PostgreSQL, clear errors.
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
from sqlalchemy import BigInteger, Dialect, Engine, String, Text, Uuid, func, select, text
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
from eventstore_sqlalchemy.databases import Database
from eventstore_sqlalchemy.databases.mysql import MySQL, MySQLAppender
from eventstore_sqlalchemy.databases.postgresql import PostgreSQL

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
    """The usual, flawed way: positions handed out at insert time like a database sequence,
    and readers that read whatever is committed. On PostgreSQL: reads that do not stop below
    the oldest transaction still running; on MariaDB: the counter taken in a transaction of
    its own, which does not wait for the writer's."""

    def _database(self, dialect: Dialect) -> Database:
        flawed = FLAWED.get(dialect)
        if flawed is None:
            database = super()._database(dialect)
            cls = FlawedPostgreSQL if isinstance(database, PostgreSQL) else FlawedMySQL
            flawed = FLAWED[dialect] = cls(dialect)
            engine = self._engine()
            assert engine is not None
            FLAWED_CONNECT[dialect] = dialect.create_connect_args(engine.url)[1]
        return flawed


class FlawedPostgreSQL(PostgreSQL):
    def read_all_statement(self, statement: Any, global_position: Any) -> Any:
        return statement


class FlawedMySQLAppender(MySQLAppender):
    def _take(self, cursor: Any, count: int) -> int:
        """In a transaction of its own, on a connection of its own, committed at once."""
        own = self.dialect.loaded_dbapi.connect(**FLAWED_CONNECT[self.dialect])
        try:
            with own.cursor() as other:
                first = super()._take(other, count)
            own.commit()
        finally:
            own.close()
        return first


class FlawedMySQL(MySQL):
    appender_class = FlawedMySQLAppender


FLAWED: dict[Any, Database] = {}
FLAWED_CONNECT: dict[Any, dict[str, Any]] = {}


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
    reader = Reader(strategy_class(uri=uri))
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
    # How: on PostgreSQL writer 2 commits at once and readers stop below writer 1's
    # transaction; elsewhere writer 2 takes its positions only once writer 1 is over.
    assert held_up is not uri.startswith("postgresql")
    assert second not in while_open, "writer 2's item was readable before writer 1's"
    assert first not in while_open  # not committed yet
    mine = [i for i in at_the_end if i in (first, second)]
    assert mine == [first, second], "both seen, in commit order, nothing skipped"


@pytest.mark.parametrize("server", list(SERVER_URIS))
def test_the_usual_design_fails_that_test(server: str) -> None:
    """The test above detects the flaw: the usual design skips writer 1's item.

    (Not on SQLite, which lets one writer at a time into the whole file.)
    """
    (first, second), held_up, while_open, at_the_end = provoke(
        SERVER_URIS[server], SequenceLikeStrategy
    )
    assert not held_up
    assert second in while_open
    assert first not in at_the_end  # skipped for ever: it committed below what was read


# -- what the design promises besides ------------------------------------------------------
def test_failed_or_rolled_back_writes_leave_nothing_and_lists_are_consecutive(uri: str) -> None:
    """A list's items have consecutive positions; on MariaDB and SQLite positions have no
    gaps at all (a failed or rolled back write gives them back); on PostgreSQL they come
    from the transaction id, so there are gaps between transactions."""
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
    assert positions[2] == positions[1] + 1 and positions[1] > positions[0]
    if not uri.startswith("postgresql"):
        assert positions == [positions[0], positions[0] + 1, positions[0] + 2]
    session.close()
    strategy.close()


def test_counter_row_is_added_after_what_the_table_holds() -> None:
    """MariaDB: a table whose counter row is missing continues after its highest position.

    (SQLite and PostgreSQL have no counter rows.)
    """
    strategy = make(SERVER_URIS["mariadb"], GlobalOrderTestRecord)
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


def test_counter_set_back_by_hand_is_a_data_integrity_error() -> None:
    strategy = make(SERVER_URIS["mariadb"], GlobalOrderTestRecord)
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
        [(position, found)] = strategy.read_all(start)
        assert found == one and position > start
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


def test_postgres_subscriber_woken_while_an_older_transaction_runs_sees_the_item_after_it(
    postgres_strategy: SQLAlchemyActiveRecordStrategy[Any],
) -> None:
    """The notification comes at the writer's commit, while a transaction that began before
    it still runs (the item is above the horizon): the subscriber waits for that one to end,
    then reads the item, without waiting for its 30 s poll."""
    writer = make(POSTGRES_URI, GlobalOrderTestRecord)
    subscription = CatchUpSubscription(
        postgres_strategy, after=last_position(postgres_strategy), poll_interval=30, timeout=60
    )
    got: list[Any] = []

    def follow() -> None:
        for ordered in subscription:
            got.append((time.monotonic(), ordered.item))
            subscription.stop()

    follower = threading.Thread(target=follow)
    follower.start()
    time.sleep(0.5)  # the subscriber has read everything and waits
    assert writer.datastore is not None
    one = item(uuid4(), 0)
    with writer.datastore.engine.connect() as older:
        older.exec_driver_sql("BEGIN")
        older.exec_driver_sql("SELECT pg_current_xact_id()")  # an id below the writer's
        writer.append(one)
        time.sleep(1.0)
        assert got == [], "not readable while the older transaction runs"
        ended = time.monotonic()
        older.exec_driver_sql("COMMIT")
    follower.join(timeout=20)
    subscription.stop()
    writer.close()
    assert [found for _, found in got] == [one]
    assert got[0][0] - ended < 5, "read once the older transaction ended, not at the poll"


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
    from eventstore_sqlalchemy.databases.postgresql import CopyStatement

    copies: list[int] = []
    write = CopyStatement.write

    def counted(statement: Any, cursor: Any, items: Any, first: int = 0) -> None:
        copies.append(len(items))
        write(statement, cursor, items, first)

    monkeypatch.setattr(CopyStatement, "write", counted)
    strategy = make(POSTGRES_URI, record)
    sequence_id = uuid4()
    strategy.append([item(sequence_id, p) for p in range(5)])  # (the table's first write)
    strategy.append(item(sequence_id, 5))  # one item: an INSERT
    strategy.append([item(sequence_id, p) for p in range(6, 9)])  # the strategy's own transaction
    with pytest.raises(ConcurrencyError):
        strategy.append([item(sequence_id, p) for p in range(8, 10)])
    assert copies == [5, 3, 2]
    assert [i.position for i in strategy.get_items(sequence_id)] == list(range(9))
    if strategy.global_position is not None:
        ordered = [o for o in strategy.read_all(0, limit=100_000) if o.item[0] == sequence_id]
        assert [o.item.position for o in ordered] == list(range(9))
        positions = [o.global_position for o in ordered]
        assert positions[6:] == list(range(positions[6], positions[6] + 3))  # one list
    strategy.close()


# -- PostgreSQL: positions from the transaction id --------------------------------------------
def test_postgres_appends_of_one_transaction_continue_its_positions() -> None:
    """Two appends in a caller's transaction: the second continues after the first, and
    nothing of it is readable before the commit."""
    strategy = make(POSTGRES_URI, GlobalOrderTestRecord)
    assert strategy.datastore is not None
    session = Session(strategy.datastore.engine)
    in_session = SQLAlchemyActiveRecordStrategy(
        active_record_class=GlobalOrderTestRecord, session=session
    )
    start = last_position(strategy)
    sequence_id = uuid4()
    with session.begin():
        in_session.append([item(sequence_id, 0), item(sequence_id, 1)])
        in_session.append(item(sequence_id, 2))
        in_session.append([item(sequence_id, 3), item(sequence_id, 4)])
        assert strategy.read_all(start) == []  # held back until the transaction ends
    mine = [o for o in strategy.read_all(start, 100) if o.item[0] == sequence_id]
    assert [o.item for o in mine] == [item(sequence_id, p) for p in range(5)]
    first = mine[0].global_position
    assert [o.global_position for o in mine] == list(range(first, first + 5))
    session.close()
    strategy.close()


def test_postgres_refuses_more_items_than_a_transaction_has_positions() -> None:
    from eventstore_core.exceptions import InvalidEventError

    from eventstore_sqlalchemy.databases.postgresql import ITEMS_PER_TRANSACTION

    strategy = make(POSTGRES_URI, GlobalOrderTestRecord)
    sequence_id = uuid4()
    too_many = [item(sequence_id, p) for p in range(ITEMS_PER_TRANSACTION + 1)]
    with pytest.raises(InvalidEventError, match="at most 65,536 items"):
        strategy.append(too_many)
    assert strategy.get_items(sequence_id) == []
    strategy.close()


# -- 16 writer processes and a subscriber --------------------------------------------------
WRITERS, LISTS, LIST_SIZE = 16, 8, 10


def write_lists(uri: str, run: int, number: int, start: Any) -> None:
    """One writer process: ``LISTS`` lists of ``LIST_SIZE`` items to two sequences of its own."""
    start.wait(60)
    strategy = make(uri, GlobalOrderTestRecord)
    sequences = [UUID(int=(run << 64) + 2 * number + n) for n in range(2)]
    for index in range(LISTS):
        sequence_id = sequences[index % 2]
        first = (index // 2) * LIST_SIZE
        strategy.append([
            item(sequence_id, first + n, f'{{"writer":{number}}}') for n in range(LIST_SIZE)
        ])
    strategy.close()


def test_16_writer_processes_and_a_subscriber_see_every_item_once_in_order(uri: str) -> None:
    """While 16 processes append lists side by side, a catch-up subscription follows the
    table: it sees every item exactly once, in increasing positions, each sequence in order,
    and reading the table again afterwards gives the same order."""
    import multiprocessing

    reader = make(uri, GlobalOrderTestRecord)
    start_position = last_position(reader)
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    run = uuid4().int >> 64
    writers = [
        context.Process(target=write_lists, args=(uri, run, number, start))
        for number in range(WRITERS)
    ]
    for process in writers:
        process.start()
    expected = WRITERS * LISTS * LIST_SIZE
    subscription = CatchUpSubscription(
        reader, after=start_position, page_size=37, timeout=120, poll_interval=0.02
    )
    seen: list[Any] = []

    def follow() -> None:
        for ordered in subscription:
            seen.append(ordered)
            if len(seen) >= expected:
                subscription.stop()

    follower = threading.Thread(target=follow)
    follower.start()
    start.set()
    for process in writers:
        process.join(timeout=180)
    follower.join(timeout=120)
    subscription.stop()
    assert [process.exitcode for process in writers] == [0] * WRITERS
    assert len(seen) == expected, "every item seen by the subscriber"
    positions = [o.global_position for o in seen]
    assert positions == sorted(set(positions)), "each once, in increasing positions"
    by_sequence: dict[Any, list[int]] = {}
    for ordered in seen:
        by_sequence.setdefault(ordered.item.sequence_id, []).append(ordered.item.position)
    assert len(by_sequence) == 2 * WRITERS
    assert all(found == list(range(LISTS // 2 * LIST_SIZE)) for found in by_sequence.values())
    again: list[Any] = []
    while page := reader.read_all(again[-1].global_position if again else start_position):
        again.extend(page)
    assert again == seen, "the order never changes once read"
    reader.close()
