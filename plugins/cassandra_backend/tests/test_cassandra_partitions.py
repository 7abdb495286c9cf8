"""Sequences split into bounded Cassandra partitions (see ``eventstore_cassandra.layout`` and
``eventstore_cassandra.crossing``), on a real Cassandra, with a split of 3 positions.

The whole backend kit also runs on split tables (``TestCassandraSplitPartitions`` here,
``TestClusterSplitKit`` on the cluster). These tests check what the kit cannot see: where
rows land, that the split is the table's and not the settings', tables made before the
split, a writer killed between the two partitions' writes of a list, and writers racing
for positions on both sides of a boundary.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from cassandra_server import test_settings
from eventstore_core.exceptions import ConcurrencyError, DatastoreError
from eventstore_core.sequenceditem import SequencedItem
from test_cassandra_feed import DELAY, read_everything, run_writer, settled_position

from eventstore_cassandra import (
    AsyncCassandraActiveRecordStrategy,
    CassandraActiveRecordStrategy,
    CassandraDatastore,
    CassandraRecord,
)
from eventstore_cassandra.datastore import close, connect

TOPIC = "eventstore_core.events#DomainEvent"
SPLIT = 3


class SplitRecord(CassandraRecord):
    table_name = "split_items"


class UnsplitRecord(CassandraRecord):
    """Made as tables were before the split (no partition column)."""

    table_name = "unsplit_items"


class UncommentedRecord(CassandraRecord):
    table_name = "uncommented_items"


def settings(**overrides: Any) -> Any:
    overrides.setdefault("partition_size", SPLIT)
    overrides.setdefault("feed_delay", DELAY)
    overrides.setdefault("feed_write_window", 0.3)
    return test_settings(**overrides)


def make_strategy(record: type[CassandraRecord] = SplitRecord,
                  **overrides: Any) -> CassandraActiveRecordStrategy[SequencedItem]:
    return CassandraActiveRecordStrategy(active_record_class=record, settings=settings(**overrides))


def items(sequence_id: UUID, positions: Any, tag: str = "") -> list[SequencedItem]:
    return [SequencedItem(sequence_id, p, TOPIC, f'{{"p":{p},"by":"{tag}"}}') for p in positions]


@pytest.fixture(scope="module", autouse=True)
def tables() -> None:
    made = CassandraDatastore(settings=settings(), tables=(SplitRecord,))
    made.setup_connection(make_default=False)
    try:
        made.setup_tables()
        made.truncate_tables()
    finally:
        made.drop_connection()
    unsplit = CassandraDatastore(settings=settings(partition_size=0), tables=(UnsplitRecord,))
    unsplit.setup_connection(make_default=False)
    try:
        unsplit.setup_tables()
    finally:
        unsplit.drop_connection()


@pytest.fixture
def strategy() -> Iterator[CassandraActiveRecordStrategy[SequencedItem]]:
    made = make_strategy()
    yield made
    made.close()


def raw_rows(table: str, sequence_id: UUID) -> list[Any]:
    """(partition_nr, position, append_state) of a sequence's rows, read past the strategy
    (the partitions from partition 0's static set)."""
    connection = connect(test_settings())
    try:
        keyspace = connection.settings.keyspace
        found = list(connection.session.execute(
            f'SELECT later_partitions FROM "{keyspace}"."{table}" WHERE sequence_id = %s '
            f'AND partition_nr = 0 LIMIT 1', (sequence_id,)))
        partitions = [0, *sorted(found[0][0] or ())] if found else [0]
        rows = []
        for partition in partitions:
            rows += list(connection.session.execute(
                f'SELECT partition_nr, position, append_state FROM "{keyspace}"."{table}" '
                f'WHERE sequence_id = %s AND partition_nr = %s', (sequence_id, partition)))
        return [tuple(row) for row in rows if row[1] is not None]
    finally:
        close(connection)


def feed_entries(table: str, sequence_id: UUID) -> list[Any]:
    """The feed entries of a sequence with their states (for a failure's message)."""
    connection = connect(test_settings())
    keyspace = connection.settings.keyspace
    try:
        entries = connection.session.execute(
            f'SELECT ts, nonce, first_position, last_position, state FROM "{keyspace}".'
            f'"{table}_feed" WHERE sequence_id = %s ALLOW FILTERING', (sequence_id,))
        rows = connection.session.execute(
            f'SELECT position, feed_id, append_id, append_state FROM "{keyspace}"."{table}" '
            f'WHERE sequence_id = %s ALLOW FILTERING', (sequence_id,))
        return [tuple(row) for row in entries] + [tuple(row) for row in rows]
    finally:
        close(connection)


def test_rows_land_in_partitions_of_the_size_the_table_was_made_with() -> None:
    # Opened with another partition size in its settings: the table's own (3) holds, so
    # every process puts a position in the same partition.
    other = make_strategy(partition_size=1000)
    sequence_id = uuid4()
    other.append(items(sequence_id, range(8)))
    assert [(p, pos) for p, pos, _ in raw_rows("split_items", sequence_id)] == [
        (0, 0), (0, 1), (0, 2), (1, 3), (1, 4), (1, 5), (2, 6), (2, 7)]
    assert other.get_items(sequence_id) == items(sequence_id, range(8))
    other.close()


def test_sparse_positions_far_apart_read_with_every_argument(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    sequence_id = uuid4()
    positions = [-7, 0, 2, 3, 100, 1000, 1001, 1002, 10**12]
    strategy.append(items(sequence_id, positions[:3]))
    for position in positions[3:5]:
        strategy.append(items(sequence_id, [position]))
    strategy.append(items(sequence_id, positions[5:]))  # 1000-1002 cross 1001|1002
    bounds = (None, -7, 2, 999, 1001, 10**12)
    for gt, lte, limit, ascending in itertools.product(
            bounds, bounds, (None, 1, 2, 5), (True, False)):
        expected = [p for p in sorted(positions, reverse=not ascending)
                    if (gt is None or p > gt) and (lte is None or p <= lte)][:limit]
        got = strategy.get_items(sequence_id, gt=gt, lte=lte, limit=limit,
                                 is_ascending=ascending)
        assert [item[1] for item in got] == expected, (gt, lte, limit, ascending)
    # the last partition, for a read from the end
    assert strategy.get_items(sequence_id, limit=1, is_ascending=False) == items(
        sequence_id, [10**12])
    mine = [item for item in strategy.all_items(page_size=2) if item[0] == sequence_id]
    assert mine == items(sequence_id, positions)


def test_a_table_made_before_the_split_keeps_working() -> None:
    strategy = make_strategy(UnsplitRecord)  # asks for a split: the table has none
    assert not strategy.statements(strategy.connection).split
    sequence_id = uuid4()
    strategy.append(items(sequence_id, range(7)))  # one conditional batch, as before
    assert strategy.get_items(sequence_id, gt=1, lt=6, is_ascending=False) == items(
        sequence_id, [5, 4, 3, 2])
    with pytest.raises(ConcurrencyError):
        strategy.append(items(sequence_id, [6, 7]))
    assert sequence_id in {item[0] for item in strategy.all_items(page_size=3)}
    strategy.close()


def test_a_split_table_that_lost_its_comment_is_refused_with_the_fix() -> None:
    made = CassandraDatastore(settings=settings(), tables=(UncommentedRecord,))
    made.setup_connection(make_default=False)
    try:
        made.setup_tables()
        table = f'"{made.settings.keyspace}"."uncommented_items"'
        made.session.execute(f"ALTER TABLE {table} WITH comment = ''")
        with pytest.raises(DatastoreError, match="partition size.*ALTER TABLE"):
            make_strategy(UncommentedRecord)
        made.session.execute(f"ALTER TABLE {table} WITH comment = 'eventstore partition_size=3'")
        again = make_strategy(UncommentedRecord)
        sequence_id = uuid4()
        again.append(items(sequence_id, range(5)))
        assert again.get_items(sequence_id) == items(sequence_id, range(5))
        again.close()
    finally:
        made.drop_connection()


def test_a_list_against_a_taken_position_in_its_second_partition_writes_nothing(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    sequence_id = uuid4()
    strategy.append(items(sequence_id, [4], "first"))
    with pytest.raises(ConcurrencyError, match="nothing"):
        strategy.append(items(sequence_id, range(1, 6), "second"))  # 1-2 | 3-5
    assert strategy.get_items(sequence_id) == items(sequence_id, [4], "first")
    # what it wrote in partition 0 was voided and deleted: the positions are free
    assert [pos for _, pos, _ in raw_rows("split_items", sequence_id)] == [4]
    strategy.append(items(sequence_id, range(4), "third"))
    assert strategy.get_items(sequence_id) == (
        items(sequence_id, range(4), "third") + items(sequence_id, [4], "first"))


def _killed_at(step: str, nth: int, sequence_id: UUID, positions: range) -> Any:
    def write() -> None:
        import os

        writer = make_strategy()
        passed: list[str] = []

        def at(name: str) -> None:
            passed.append(name)
            if passed.count(step) == nth:
                os._exit(9)

        writer._feed_step = at  # type: ignore[method-assign]
        writer.append(items(sequence_id, positions, "victim"))
    return write


@pytest.mark.parametrize(
    ("step", "nth", "stored"),
    [("part written", 1, False), ("part written", 2, False), ("committed", 1, True)],
)
def test_a_writer_killed_between_the_partitions_or_after_the_commit(
    strategy: CassandraActiveRecordStrategy[SequencedItem], step: str, nth: int, stored: bool,
) -> None:
    start = settled_position_of(strategy)
    sequence_id = uuid4()
    # 1-2 | 3-5 | 6-7: killed after the first part, after the second, or after the commit
    assert run_writer(_killed_at(step, nth, sequence_id, range(1, 8))) == 9
    victim = items(sequence_id, range(1, 8), "victim")
    assert strategy.get_items(sequence_id) == (victim if stored else [])
    assert strategy.get_items(sequence_id, gte=4, limit=2) == (victim[3:5] if stored else [])
    assert strategy.get_items(sequence_id, is_ascending=False, limit=1) == (
        victim[-1:] if stored else [])
    rows = raw_rows("split_items", sequence_id)
    assert len(rows) == (7 if stored else 2 * nth + (nth - 1))  # 2, then 5 rows written
    assert {state for _, _, state in rows} == {"committed" if stored else "pending", None}
    if stored:
        with pytest.raises(ConcurrencyError):
            strategy.append(items(sequence_id, [4], "late"))
        final = fed_order = victim
    else:
        # The dead writer's rows hold their positions only until a writer meets them: the
        # append of 4 (if killed after two parts) voids the dead append through its head
        # row in partition 0; the others find it voided, or meet its other rows.
        strategy.append(items(sequence_id, [4], "next"))
        strategy.append(items(sequence_id, [1, 2, 3], "next"))
        strategy.append(items(sequence_id, [5, 6, 7], "next"))
        final = items(sequence_id, range(1, 8), "next")
        fed_order = [final[3], *final[:3], *final[4:]]  # in the order of the appends
    assert strategy.get_items(sequence_id) == final
    assert [item for item in strategy.all_items(page_size=4) if item[0] == sequence_id] == final
    time.sleep(DELAY + 0.3)
    fed = [o.item for o in read_everything(strategy, start) if o.item[0] == sequence_id]
    # the feed: each item once, never a part of the dead append
    assert fed == fed_order, feed_entries("split_items", sequence_id)


def settled_position_of(strategy: CassandraActiveRecordStrategy[SequencedItem]) -> int:
    """Where the feed of the split table stands now (past everything already settled)."""
    del strategy
    return settled_position()


def test_writers_racing_on_both_sides_of_a_boundary() -> None:
    # Every round, three writers at once: a list across the 2|3 boundary, a list within
    # partition 1, one item in partition 0. The store must show exactly the lists that
    # were acknowledged, which never overlap, and nothing of the others.
    writers = [make_strategy() for _ in range(3)]
    lists = [range(1, 5), range(3, 6), range(2, 3)]
    for _ in range(8):
        sequence_id = uuid4()
        won: dict[int, bool] = {}
        barrier = threading.Barrier(3)

        def write(n: int, sequence_id: UUID = sequence_id,
                  barrier: threading.Barrier = barrier, won: dict[int, bool] = won) -> None:
            barrier.wait()
            try:
                writers[n].append(items(sequence_id, lists[n], str(n)))
                won[n] = True
            except ConcurrencyError:
                won[n] = False

        threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(won) == 3 and any(won.values())
        winners = [n for n in range(3) if won[n]]
        taken = [p for n in winners for p in lists[n]]
        assert len(taken) == len(set(taken)), f"overlapping winners {winners}"
        expected = sorted((item for n in winners for item in items(sequence_id, lists[n], str(n))),
                          key=lambda item: item[1])
        assert writers[0].get_items(sequence_id) == expected
    for writer in writers:
        writer.close()


def test_the_async_strategy_on_a_split_table() -> None:
    # The same step functions, awaited: lists across partitions, a conflict in the second
    # partition of a list, reads across partitions, and all_items.
    async def scenario() -> tuple[UUID, list[Any], list[Any], list[Any]]:
        strategy: Any = AsyncCassandraActiveRecordStrategy(
            active_record_class=SplitRecord, settings=settings())
        sequence_id = uuid4()
        await asyncio.gather(strategy.append(items(sequence_id, range(0, 5))),
                             strategy.append(items(sequence_id, range(5, 9))))
        with pytest.raises(ConcurrencyError):
            await strategy.append(items(sequence_id, range(9, 13)) + items(sequence_id, [8]))
        got = await strategy.get_items(sequence_id, gt=1, is_ascending=False, limit=4)
        whole = await strategy.get_items(sequence_id)
        everything = [item async for item in strategy.all_items(page_size=3)
                      if item[0] == sequence_id]
        await strategy.close()
        return sequence_id, got, whole, everything

    sequence_id, got, whole, everything = asyncio.run(scenario())
    assert [item[1] for item in got] == [8, 7, 6, 5]
    assert whole == everything == items(sequence_id, range(9))
