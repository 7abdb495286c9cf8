"""A quick measurement of the backend's hot paths, next to the raw driver doing the same.

    python plugins/sqlalchemy_backend/benchmarks/quick_measure.py [--rounds 7] [--db sqlite]
        [--only global_position]

For SQLite (a temporary file) and PostgreSQL (``EVENTSTORE_BENCH_POSTGRES_URI``):
  append: 100 items a call (one transaction), round-robin over 100 sequences; items/s;
  read:   one 10,000-item sequence read whole; items/s; and its last 10 items, µs/call;
  global position: append of 100 items a call and of 1 item a call to a table with a
          global position (the library's event tables) and to one without (as before
          the global order): the cost of taking positions from the counter row.
Each figure is compared with a second way of doing the same (the raw driver, or another
insert path) run alternately A B A B, one repetition each, so that this machine's CPU, which
flips between two speeds, treats both alike; the ratio quoted is the median of the pair-by-pair
ratios. gc.collect() runs before each timed repetition.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventstore_core.sequenceditem import SequencedItem
from sqlalchemy import BigInteger, Connection, String, Uuid, insert
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eventstore_sqlalchemy import (
    SQLAlchemyActiveRecordStrategy,
    SQLAlchemySettings,
    global_position_counters,
)
from eventstore_sqlalchemy import strategy as strategy_module
from eventstore_sqlalchemy.records import DataText

POSTGRES_URI = os.environ.get(
    "EVENTSTORE_BENCH_POSTGRES_URI",
    "postgresql+psycopg://eventstore:eventstore@127.0.0.1:5432/eventstore_bench",
)
TOPIC = "eventstore_core.events#DomainEvent"
TABLE = "quick_measure_items"  # its own table, dropped at the end, so it disturbs no one


class MeasureBase(DeclarativeBase):
    pass


class MeasureRecord(MeasureBase):
    """Like IntegerSequencedItemRecord, in a table of its own."""

    __tablename__ = TABLE
    sequence_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(255))
    data: Mapped[str] = mapped_column(DataText)
    __table_args__ = ({"sqlite_with_rowid": False},)


class MeasureGlobalRecord(MeasureBase):
    """Like IntegerSequencedItemRecord, with its global position, in a table of its own."""

    __tablename__ = TABLE + "_global"
    sequence_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic: Mapped[str] = mapped_column(String(255))
    data: Mapped[str] = mapped_column(DataText)
    global_position: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)
    __table_args__ = ({"sqlite_with_rowid": False},)


def make_strategy(
    uri: str, strategy_class: Any = SQLAlchemyActiveRecordStrategy, record: Any = MeasureRecord
) -> Any:
    return strategy_class(
        sequenced_item_class=SequencedItem,
        active_record_class=record,
        settings=SQLAlchemySettings(uri),
    )


class CoreInsertStrategy(SQLAlchemyActiveRecordStrategy[Any]):
    """The alternative measured against: ``conn.execute(insert(table), [dict, ...])``."""

    def _insert(self, conn: Connection, items: list[Any]) -> None:
        if len(items) >= strategy_module.COPY_THRESHOLD and conn.dialect.name == "postgresql":
            return super()._insert(conn, items)
        keys = [column.key for column in self.columns]
        rows = [dict(zip(keys, item, strict=True)) for item in items]
        conn.execute(insert(self.table), rows)


def drop(strategy: Any) -> None:
    strategy.datastore.drop_tables()
    if strategy.global_position is not None and strategy.datastore.engine.dialect.name != "sqlite":
        # and its counter row
        with strategy.datastore.engine.begin() as conn:
            conn.execute(global_position_counters.delete().where(
                global_position_counters.c.table_name == strategy.table.name))
    strategy.close()


BATCH = 100
SEQUENCES = 100


def payload(rng: random.Random) -> str:
    name = "".join(rng.choice("abcdefghij") for _ in range(20))
    note = "".join(rng.choice("klmnopqrst ") for _ in range(40))
    return (
        f'{{"name":"{name}","amount":{rng.randint(1, 10**6)},"price":{rng.random() * 100:.6f},'
        f'"tags":["red","green","blue"],"note":"{note}","timestamp":1732700000.123456}}'
    )


class Appender:
    """Appends the next 100 positions of one of 100 sequences per call."""

    def __init__(self) -> None:
        rng = random.Random(42)
        self.sequences = [uuid4() for _ in range(SEQUENCES)]
        self.next = dict.fromkeys(self.sequences, 0)
        self.data = [payload(rng) for _ in range(BATCH)]
        self.turn = 0

    def one(self) -> SequencedItem:
        """The next position of the next sequence."""
        sequence_id = self.sequences[self.turn % SEQUENCES]
        self.turn += 1
        position = self.next[sequence_id]
        self.next[sequence_id] = position + 1
        return SequencedItem(sequence_id, position, TOPIC, self.data[position % BATCH])

    def batch(self) -> list[SequencedItem]:
        sequence_id = self.sequences[self.turn % SEQUENCES]
        self.turn += 1
        start = self.next[sequence_id]
        self.next[sequence_id] = start + BATCH
        return [SequencedItem(sequence_id, start + i, TOPIC, d) for i, d in enumerate(self.data)]


def timed(run: Callable[[], int]) -> float:
    """Items (or calls) per second of one repetition."""
    gc.collect()
    started = time.perf_counter()
    count = run()
    return count / (time.perf_counter() - started)


def alternate(
    name: str, a: Callable[[], int], b: Callable[[], int], rounds: int, unit: str = "items/s"
) -> None:
    a(), b()  # warm up
    pairs = []
    for _ in range(rounds):
        pairs.append((timed(a), timed(b)))
    rate_a = statistics.median(p[0] for p in pairs)
    rate_b = statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[0] / p[1] for p in pairs)
    print(f"  {name:58s} A {rate_a:>10,.0f}  B {rate_b:>10,.0f} {unit}  A/B {ratio:.2f}")


# -- SQLite ------------------------------------------------------------------------------
def raw_sqlite_append(path: Path, appender: Appender, calls: int) -> Callable[[], int]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    sql = f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?)"

    def run() -> int:
        for _ in range(calls):
            rows = [(i[0].hex, i[1], i[2], i[3]) for i in appender.batch()]
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
        return calls * BATCH

    return run


def raw_sqlite_read(path: Path, sequence_id: UUID, limit: int | None) -> Callable[[], Any]:
    conn = sqlite3.connect(path, isolation_level=None)
    if limit is None:
        sql = (f"SELECT position, topic, data FROM {TABLE} "
               "WHERE sequence_id = ? ORDER BY position")
    else:
        sql = (f"SELECT position, topic, data FROM {TABLE} "
               f"WHERE sequence_id = ? ORDER BY position DESC LIMIT {limit}")

    def read() -> list[SequencedItem]:
        conn.execute("BEGIN")
        rows = conn.execute(sql, (sequence_id.hex,)).fetchall()
        conn.execute("COMMIT")
        return [SequencedItem(sequence_id, *row) for row in rows]

    return read


# -- PostgreSQL ----------------------------------------------------------------------------
def raw_pg_connection() -> Any:
    import psycopg

    dsn = POSTGRES_URI.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(dsn)


def raw_pg_append(appender: Appender, calls: int) -> Callable[[], int]:
    conn = raw_pg_connection()
    sql = f"COPY {TABLE} (sequence_id, position, topic, data) FROM STDIN (FORMAT BINARY)"

    def run() -> int:
        for _ in range(calls):
            with conn.cursor() as cursor, cursor.copy(sql) as copy:
                copy.set_types(["uuid", "bigint", "varchar", "text"])
                for item in appender.batch():
                    copy.write_row(item)
            conn.commit()
        return calls * BATCH

    return run


def raw_pg_read(sequence_id: UUID, limit: int | None) -> Callable[[], Any]:
    conn = raw_pg_connection()
    sql = (f"SELECT position, topic, data FROM {TABLE} WHERE sequence_id = %s "
           + ("ORDER BY position" if limit is None else f"ORDER BY position DESC LIMIT {limit}"))

    def read() -> list[SequencedItem]:
        with conn.cursor() as cursor:
            rows = cursor.execute(sql, (sequence_id,)).fetchall()
        conn.commit()
        return [SequencedItem(sequence_id, *row) for row in rows]

    return read


# -- the figures -------------------------------------------------------------------------
def ours_append(strategy: Any, appender: Appender, calls: int) -> Callable[[], int]:
    def run() -> int:
        for _ in range(calls):
            strategy.append(appender.batch())
        return calls * BATCH

    return run


def ours_append_one(strategy: Any, appender: Appender, times: int) -> Callable[[], int]:
    def run() -> int:
        for _ in range(times):
            strategy.append(appender.one())
        return times

    return run


def measure_global_position(uri: str, rounds: int, one_calls: int, uri_b: str = "") -> None:
    """Append with a global position (A) and without (B), the rest of the code the same.

    ``uri_b``: another database for B (SQLite: another file, so that neither pays for the
    other's WAL checkpoints).
    """
    with_global = make_strategy(uri, record=MeasureGlobalRecord)
    without = make_strategy(uri_b or uri)
    with_appender, without_appender = Appender(), Appender()
    alternate("append 100/call: with global position (A) vs without (B)",
              ours_append(with_global, with_appender, 30),
              ours_append(without, without_appender, 30), rounds)
    alternate("append 1/call: with global position (A) vs without (B)",
              ours_append_one(with_global, with_appender, one_calls),
              ours_append_one(without, without_appender, one_calls), rounds, "calls/s")
    drop(with_global)
    drop(without)


def reads(read: Callable[[], Any], times: int) -> Callable[[], int]:
    def run() -> int:
        count = 0
        for _ in range(times):
            count += len(read())
        return count

    return run


def calls(read: Callable[[], Any], times: int) -> Callable[[], int]:
    def run() -> int:
        for _ in range(times):
            read()
        return times

    return run


def fill_long_sequence(strategy: Any) -> UUID:
    sequence_id = uuid4()
    rng = random.Random(7)
    for start in range(0, 10_000, 1000):
        strategy.append([SequencedItem(sequence_id, p, TOPIC, payload(rng))
                         for p in range(start, start + 1000)])
    return sequence_id


def measure_sqlite(rounds: int, only: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        if only == "global_position":
            print("SQLite file (WAL, synchronous=FULL)")
            measure_global_position(
                f"sqlite:///{path}", rounds, 300, f"sqlite:///{path.with_suffix('.b.sqlite3')}"
            )
            return
        strategy = make_strategy(f"sqlite:///{path}")
        print("SQLite file (WAL, synchronous=FULL)")
        appender = Appender()
        core = make_strategy(f"sqlite:///{path}", CoreInsertStrategy)
        alternate("append 100/call: ours (A) vs ours with Core execute(insert) (B)",
                  ours_append(strategy, appender, 30), ours_append(core, appender, 30), rounds)
        core.close()
        alternate("append 100/call: ours (A) vs raw sqlite3 executemany (B)",
                  ours_append(strategy, appender, 30),
                  raw_sqlite_append(path, appender, 30), rounds)
        sequence_id = fill_long_sequence(strategy)
        alternate("read 10,000: ours (A) vs raw sqlite3 (B)",
                  reads(lambda: strategy.get_items(sequence_id), 3),
                  reads(raw_sqlite_read(path, sequence_id, None), 3), rounds)
        alternate("last 10 of 10,000: ours (A) vs raw sqlite3 (B)",
                  calls(lambda: strategy.get_items(sequence_id, limit=10, is_ascending=False),
                        500),
                  calls(raw_sqlite_read(path, sequence_id, 10), 500), rounds, "calls/s")
        drop(strategy)


def measure_postgres(rounds: int, only: str | None = None) -> None:
    if only == "global_position":
        print("PostgreSQL (psycopg 3)")
        measure_global_position(POSTGRES_URI, rounds, 500)
        return
    strategy = make_strategy(POSTGRES_URI)
    print("PostgreSQL (psycopg 3)")
    appender = Appender()
    copy_threshold = strategy_module.COPY_THRESHOLD

    def with_threshold(threshold: int, run: Callable[[], int]) -> Callable[[], int]:
        def switched() -> int:
            strategy_module.COPY_THRESHOLD = threshold
            try:
                return run()
            finally:
                strategy_module.COPY_THRESHOLD = copy_threshold

        return switched

    alternate("append 100/call: ours COPY (A) vs ours driver executemany (B)",
              with_threshold(copy_threshold, ours_append(strategy, appender, 30)),
              with_threshold(10**9, ours_append(strategy, appender, 30)), rounds)
    alternate("append 100/call: ours (A) vs raw psycopg COPY (B)",
              ours_append(strategy, appender, 30), raw_pg_append(appender, 30), rounds)
    sequence_id = fill_long_sequence(strategy)
    alternate("read 10,000: ours (A) vs raw psycopg (B)",
              reads(lambda: strategy.get_items(sequence_id), 3),
              reads(raw_pg_read(sequence_id, None), 3), rounds)
    alternate("last 10 of 10,000: ours (A) vs raw psycopg (B)",
              calls(lambda: strategy.get_items(sequence_id, limit=10, is_ascending=False), 300),
              calls(raw_pg_read(sequence_id, 10), 300), rounds, "calls/s")
    drop(strategy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--only", choices=["global_position"], default=None)
    args = parser.parse_args()
    if args.db in ("sqlite", "all"):
        measure_sqlite(args.rounds, args.only)
    if args.db in ("postgresql", "all"):
        measure_postgres(args.rounds, args.only)
    if args.only is None:
        if args.db in ("sqlite", "all"):
            measure_sqlite(args.rounds, "global_position")
        if args.db in ("postgresql", "all"):
            measure_postgres(args.rounds, "global_position")


if __name__ == "__main__":
    main()
