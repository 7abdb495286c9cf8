"""SQLite: WAL, durable by default, and many writers on one file that wait their turn."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventstore_core.exceptions import ConcurrencyError, ConfigurationError, DatastoreError
from eventstore_core.sequenceditem import SequencedItem
from sqlalchemy import event, text

from eventstore_sqlalchemy import (
    SQLAlchemyActiveRecordStrategy,
    SQLAlchemyDatastore,
    SQLAlchemySettings,
)

TOPIC = "eventstore_core.events#DomainEvent"


def sqlite_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.sqlite3'}"


def pragma(strategy: SQLAlchemyActiveRecordStrategy[Any], name: str) -> Any:
    assert strategy.datastore is not None
    with strategy.datastore.engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_wal_and_full_synchronous_by_default(tmp_path: Path) -> None:
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=sqlite_uri(tmp_path)
    )
    assert pragma(strategy, "journal_mode") == "wal"
    assert pragma(strategy, "synchronous") == 2  # FULL
    assert pragma(strategy, "busy_timeout") == 60_000
    strategy.close()


def test_durability_is_traded_only_when_asked(tmp_path: Path) -> None:
    settings = SQLAlchemySettings(sqlite_uri(tmp_path), sqlite_synchronous="normal")
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        settings=settings
    )
    assert pragma(strategy, "synchronous") == 1  # NORMAL
    strategy.close()
    with pytest.raises(ConfigurationError, match="sqlite_synchronous"):
        SQLAlchemySettings(sqlite_uri(tmp_path), sqlite_synchronous="fast")


def test_writes_begin_immediate_and_reads_do_not(tmp_path: Path) -> None:
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=sqlite_uri(tmp_path)
    )
    assert strategy.datastore is not None
    engine = strategy.datastore.engine
    engine.dispose()  # the next connections are traced
    statements: list[str] = []

    def trace(statement: str) -> None:
        words = statement.split()
        statements.append(" ".join(words[:2]) if words[0] == "BEGIN" else words[0])

    event.listen(engine, "connect", lambda dbapi_connection, _record: (
        dbapi_connection.set_trace_callback(trace)
    ))
    sequence_id = uuid4()
    strategy.append(SequencedItem(sequence_id, 0, TOPIC, "{}"))
    statements.clear()
    strategy.append(SequencedItem(sequence_id, 1, TOPIC, "{}"))
    assert statements == ["BEGIN IMMEDIATE", "INSERT", "COMMIT"]
    statements.clear()
    assert [item.position for item in strategy.get_items(sequence_id)] == [0, 1]
    # (a read runs alone, in autocommit mode: SQLite reads one consistent state of the file)
    assert statements == ["SELECT"]
    strategy.close()


def test_in_memory_database_is_one_database_for_every_thread() -> None:
    datastore = SQLAlchemyDatastore(SQLAlchemySettings("sqlite:///:memory:"))
    datastore.setup_tables()
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        session=datastore.session
    )
    sequence_id = uuid4()

    def write(start: int) -> None:
        for position in range(start, start + 50, 10):
            strategy.append([SequencedItem(sequence_id, position + i, TOPIC, "{}")
                             for i in range(10)])

    threads = [threading.Thread(target=write, args=(i * 50,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [item.position for item in strategy.get_items(sequence_id)] == list(range(200))
    assert not strategy.capabilities.shared_between_processes
    datastore.drop_connection()


# -- many writers on one file -----------------------------------------------------------
SHARED_POSITIONS = 40
OWN_LISTS = 15


def write_a_lot(uri: str, name: str, shared: UUID, busy_timeout: float) -> tuple[str, Any]:
    """Race for the shared sequence's positions and fill an own sequence with lists.

    Returns (name, positions won) or (name, error text): any error but ConcurrencyError is
    a failure.
    """
    try:
        strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
            settings=SQLAlchemySettings(uri, sqlite_busy_timeout=busy_timeout)
        )
        own = uuid4()
        won = []
        for position in range(SHARED_POSITIONS):
            try:
                strategy.append(SequencedItem(shared, position, TOPIC, f'"{name}"'))
                won.append(position)
            except ConcurrencyError:
                pass
            if position < OWN_LISTS:
                strategy.append([SequencedItem(own, position * 10 + i, TOPIC, "{}")
                                 for i in range(10)])
        stored = [item.position for item in strategy.get_items(own)]
        assert stored == list(range(OWN_LISTS * 10)), stored
        strategy.close()
        return name, won
    except BaseException as error:  # reported by the test
        return name, f"ERROR {error!r}"


def check_outcomes(uri: str, shared: UUID, outcomes: list[tuple[str, Any]]) -> None:
    failures = [outcome for outcome in outcomes if isinstance(outcome[1], str)]
    assert failures == []
    won = sorted(p for _, positions in outcomes for p in positions)
    assert won == list(range(SHARED_POSITIONS))
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(uri=uri)
    stored = strategy.get_items(shared)
    winner = {p: name for name, positions in outcomes for p in positions}
    assert [(i.position, i.data) for i in stored] == [
        (p, f'"{winner[p]}"') for p in range(SHARED_POSITIONS)
    ]
    strategy.close()


@pytest.mark.parametrize("busy_timeout", [60.0, 5.0], ids=["waiting", "short"])
def test_threads_and_processes_writing_one_file_never_see_database_is_locked(
    tmp_path: Path, busy_timeout: float
) -> None:
    """A short busy timeout, retries included (never longer: ``sqlite_busy_timeout`` bounds
    the whole wait, test_sqlalchemy_bounded_waits), still absorbs eight writers."""
    uri = sqlite_uri(tmp_path)
    shared = uuid4()
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        in_processes = [
            pool.apply_async(write_a_lot, (uri, f"process{i}", shared, busy_timeout))
            for i in range(3)
        ]
        outcomes: list[tuple[str, Any]] = []
        threads = [
            threading.Thread(
                target=lambda i=i: outcomes.append(
                    write_a_lot(uri, f"thread{i}", shared, busy_timeout)
                )
            )
            for i in range(5)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        outcomes.extend(result.get(timeout=300) for result in in_processes)
    assert len(outcomes) == 8
    check_outcomes(uri, shared, outcomes)


def test_a_transaction_left_open_elsewhere_gives_a_clear_error_not_database_is_locked(
    tmp_path: Path,
) -> None:
    uri = sqlite_uri(tmp_path)
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        settings=SQLAlchemySettings(uri, sqlite_busy_timeout=0.05), retry_timeout=0.3
    )
    blocker = sqlite3.connect(tmp_path / "events.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    with pytest.raises(DatastoreError) as caught:
        strategy.append(SequencedItem(uuid4(), 0, TOPIC, "{}"))
    blocker.execute("ROLLBACK")
    blocker.close()
    message = str(caught.value)
    assert "database is locked" not in message
    assert "busy" in message and "events.sqlite3" in message
    strategy.append(SequencedItem(uuid4(), 0, TOPIC, "{}"))  # fine once the lock is gone
    strategy.close()


def test_sqlite_text_of_rows_is_left_readable(tmp_path: Path) -> None:
    """The file holds plain rows that other tools can read (sequence ids as hex text)."""
    uri = sqlite_uri(tmp_path)
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(uri=uri)
    sequence_id = uuid4()
    strategy.append(SequencedItem(sequence_id, 7, TOPIC, '{"a":1}'))
    assert strategy.datastore is not None
    with strategy.datastore.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM integer_sequenced_items")).one()
    assert tuple(row) == (sequence_id.hex, 7, TOPIC, '{"a":1}', 1)  # 1: global position
    strategy.close()


def test_fork_waits_until_other_threads_are_out_of_sqlite() -> None:
    """A child forked while another thread is inside SQLite would inherit SQLite's mutexes
    locked, and hang at its first SQLite call: forks wait for the backend's SQLite calls."""
    import os
    import time

    from eventstore_sqlalchemy.databases.sqlite import FORK_GUARD

    inside = threading.Event()

    def in_sqlite() -> None:
        with FORK_GUARD.section():
            inside.set()
            time.sleep(0.5)

    thread = threading.Thread(target=in_sqlite)
    thread.start()
    inside.wait()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    waited = time.monotonic() - started
    os.waitpid(pid, 0)
    thread.join()
    assert waited > 0.3
    with FORK_GUARD.section():  # usable after the fork
        pass


def test_event_tables_keep_the_global_position_as_the_rowid(tmp_path: Path) -> None:
    """One b-tree fewer per insert: the global position is the rowid, and (sequence,
    position) a unique index, the only index of the table."""
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=sqlite_uri(tmp_path)
    )
    sequence_id = uuid4()
    strategy.append([SequencedItem(sequence_id, n, TOPIC, "{}") for n in range(3)])
    with sqlite3.connect(tmp_path / "events.sqlite3") as conn:
        rows = conn.execute(
            "SELECT rowid, global_position FROM integer_sequenced_items ORDER BY rowid"
        ).fetchall()
        indexes = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'integer_sequenced_items'"
        ).fetchall()
        columns = conn.execute(
            "SELECT name, pk FROM pragma_table_info('integer_sequenced_items') WHERE pk > 0"
        ).fetchall()
    conn.close()
    assert rows == [(1, 1), (2, 2), (3, 3)]
    assert len(indexes) == 1  # the unique (sequence_id, position)
    assert columns == [("global_position", 1)]
    with pytest.raises(ConcurrencyError):
        strategy.append(SequencedItem(sequence_id, 1, TOPIC, "{}"))
    strategy.close()


def test_each_thread_keeps_one_connection_until_the_engine_is_disposed(tmp_path: Path) -> None:
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=sqlite_uri(tmp_path)
    )
    assert strategy.datastore is not None
    engine = strategy.datastore.engine
    engine.dispose()
    connected: list[Any] = []
    event.listen(engine, "connect", lambda dbapi_connection, _record: (
        connected.append(dbapi_connection)
    ))
    sequence_id = uuid4()

    def work(start: int) -> None:
        for n in range(start, start + 20):
            strategy.append(SequencedItem(sequence_id, n, TOPIC, "{}"))
            strategy.get_items(sequence_id, limit=2, is_ascending=False)

    for n in range(3):  # one after the other: a pool would lend them all one connection
        thread = threading.Thread(target=work, args=(n * 20,))
        thread.start()
        thread.join()
    work(60)
    assert len(connected) == 4  # one per thread, kept from call to call
    assert [item.position for item in strategy.get_items(sequence_id)] == list(range(80))
    engine.dispose()  # closes them (strategy.close() does this too)
    with pytest.raises(sqlite3.ProgrammingError):
        connected[-1].execute("SELECT 1")
    assert len(strategy.get_items(sequence_id)) == 80  # a new connection for this thread
    assert len(connected) == 5
    strategy.close()


def test_a_forked_child_makes_its_own_connection(tmp_path: Path) -> None:
    import os

    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=sqlite_uri(tmp_path)
    )
    sequence_id = uuid4()
    strategy.append(SequencedItem(sequence_id, 0, TOPIC, "{}"))  # the parent's connection
    pid = os.fork()
    if pid == 0:  # the child: appends and reads through the same strategy object
        code = 1
        try:
            strategy.append(SequencedItem(sequence_id, 1, TOPIC, "{}"))
            code = 0 if len(strategy.get_items(sequence_id)) == 2 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    strategy.append(SequencedItem(sequence_id, 2, TOPIC, "{}"))
    assert [item.position for item in strategy.get_items(sequence_id)] == [0, 1, 2]
    strategy.close()


def test_a_table_made_before_the_rowid_layout_keeps_working(tmp_path: Path) -> None:
    """Files made by the first layout (WITHOUT ROWID, a unique global-position index) are
    read from the file and appended to as they are: the insert numbers the rows itself."""
    with sqlite3.connect(tmp_path / "events.sqlite3") as conn:
        conn.execute(
            "CREATE TABLE integer_sequenced_items (sequence_id CHAR(32) NOT NULL, "
            "position BIGINT NOT NULL, topic VARCHAR(255) NOT NULL, data TEXT NOT NULL, "
            "global_position BIGINT NOT NULL, PRIMARY KEY (sequence_id, position)) "
            "WITHOUT ROWID"
        )
        conn.execute(
            "CREATE UNIQUE INDEX ix_integer_sequenced_items_global_position "
            "ON integer_sequenced_items (global_position)"
        )
        conn.execute(
            "INSERT INTO integer_sequenced_items VALUES (?, 0, ?, '{}', 1)", (uuid4().hex, TOPIC)
        )
    conn.close()
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=sqlite_uri(tmp_path)
    )
    sequence_id = uuid4()
    strategy.append([SequencedItem(sequence_id, n, TOPIC, "{}") for n in range(3)])
    strategy.append(SequencedItem(sequence_id, 3, TOPIC, "{}"))
    ordered = strategy.read_all(0)
    assert [o.global_position for o in ordered] == [1, 2, 3, 4, 5]
    assert [o.item.position for o in ordered[1:]] == [0, 1, 2, 3]
    with pytest.raises(ConcurrencyError):
        strategy.append(SequencedItem(sequence_id, 3, TOPIC, "{}"))
    strategy.close()
