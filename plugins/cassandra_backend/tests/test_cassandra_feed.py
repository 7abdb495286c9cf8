"""The feed on a real Cassandra: every item once, in a fixed order, whatever a writer does.

Each failure point of an append (see ``eventstore_cassandra.feed``) is tested by a writer
process that is killed there (``os._exit`` from the strategy's step hook), or held there
past the feed's bounds while a reader reads. Two readers compare what they saw: one that
reads while the writer writes, one that reads everything afterwards; they must agree.

The feed's delay is short here (``feed_delay`` 1 s, ``feed_write_window`` 0.3 s), so the
tests wait about a second before the last items become visible.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from cassandra_server import test_settings
from eventstore_core.activerecordstrategy import OrderedItem
from eventstore_core.exceptions import ConfigurationError
from eventstore_core.sequenceditem import SequencedItem
from eventstore_core.subscription import CatchUpSubscription

from eventstore_cassandra import CassandraActiveRecordStrategy, CassandraDatastore, CassandraRecord
from eventstore_cassandra import feed as feed_module

TOPIC = "eventstore_core.events#DomainEvent"
DELAY, WINDOW = 1.0, 0.3


class FeedRecord(CassandraRecord):
    """A table of its own, so that the feed holds only these tests' items."""

    table_name = "feed_items"


def make_strategy(**overrides: Any) -> CassandraActiveRecordStrategy[SequencedItem]:
    overrides.setdefault("feed_delay", DELAY)
    overrides.setdefault("feed_write_window", WINDOW)
    return CassandraActiveRecordStrategy(
        active_record_class=FeedRecord, settings=test_settings(**overrides)
    )


@pytest.fixture(scope="module", autouse=True)
def empty_feed() -> None:
    datastore = CassandraDatastore(settings=test_settings(), tables=(FeedRecord,))
    datastore.setup_connection(make_default=False)
    try:
        datastore.setup_tables()
        datastore.truncate_tables()
    finally:
        datastore.drop_connection()


@pytest.fixture
def strategy() -> Iterator[CassandraActiveRecordStrategy[SequencedItem]]:
    made = make_strategy()
    yield made
    made.close()


def items(sequence_id: UUID, positions: range) -> list[SequencedItem]:
    return [SequencedItem(sequence_id, p, TOPIC, f'{{"p":{p}}}') for p in positions]


def read_everything(strategy: CassandraActiveRecordStrategy[Any], after: int = 0) -> list[Any]:
    out: list[OrderedItem] = []
    while True:
        page = strategy.read_all(after, 100)
        if not page:
            return out
        out.extend(page)
        after = page[-1].global_position


def settled_position() -> int:
    """A global position below every entry begun from now on."""
    return feed_module.encode(feed_module.now_us(), 0, 0)


class Reader(threading.Thread):
    """Reads the feed from ``after`` again and again until stopped, keeping what it saw."""

    def __init__(self, after: int) -> None:
        super().__init__(daemon=True)
        self.after = after
        self.seen: list[OrderedItem] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        strategy = make_strategy()
        try:
            while not self.stopping.is_set():
                page = strategy.read_all(self.after, 100)
                self.seen.extend(page)
                if page:
                    self.after = page[-1].global_position
                else:
                    time.sleep(0.05)
            # the rest, once it is older than the delay (plus the 0.6 s that a writer's clock
            # runs ahead in the skew test, plus a margin)
            time.sleep(DELAY + 1.0)
            self.seen.extend(read_everything(strategy, self.after))
        finally:
            strategy.close()

    def stop(self) -> list[OrderedItem]:
        self.stopping.set()
        self.join(timeout=60)
        return self.seen


def run_writer(target: Callable[[], None]) -> int:
    """Run ``target`` in a forked process; its exit code."""
    process = multiprocessing.get_context("fork").Process(target=_child, args=(target,))
    process.start()
    process.join(timeout=120)
    assert process.exitcode is not None, "the writer hung"
    return process.exitcode


def _child(target: Callable[[], None]) -> None:
    code = 1
    try:
        target()
        code = 0
    finally:
        os._exit(code)


def writer_that(step: str, then: Callable[[], None], sequence_id: UUID,
                appended: range, steps_file: Path | None = None) -> Callable[[], None]:
    """A writer appending ``appended`` that runs ``then`` the first time it is at ``step``
    (and writes the names of the steps it passed to ``steps_file``)."""
    def write() -> None:
        strategy = make_strategy()
        hook = strategy._feed_step
        done: list[str] = []

        def at(name: str) -> None:
            if steps_file is not None:
                with steps_file.open("a") as passed:
                    passed.write(name + "\n")
            if name == step and not done:
                done.append(name)
                then()
            hook(name)

        strategy._feed_step = at  # type: ignore[method-assign]
        strategy.append(items(sequence_id, appended))
        strategy.close()
    return write


def killed() -> None:
    os._exit(9)


def check_agree(during: list[OrderedItem], after: list[OrderedItem]) -> None:
    """Both readers saw the same items at the same positions, each once, in order."""
    assert during == after
    positions = [o.global_position for o in after]
    assert positions == sorted(set(positions))
    keys = [(o.item[0], o.item[1]) for o in after]
    assert len(keys) == len(set(keys)), "an item twice"


def test_read_all_gives_appends_in_order_after_the_delay(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    start = settled_position()
    first, second = uuid4(), uuid4()
    strategy.append(items(first, range(3)))
    strategy.append(items(second, range(2)))
    strategy.append(items(first, range(3, 4)))
    assert strategy.read_all(start, 100) == []  # not older than the delay yet
    time.sleep(DELAY + 0.2)
    got = read_everything(strategy, start)
    assert [o.item for o in got] == (
        items(first, range(3)) + items(second, range(2)) + items(first, range(3, 4))
    )
    assert read_everything(make_strategy(), start) == got  # another reader: the same
    resumed = read_everything(strategy, got[2].global_position)  # resume mid-append
    assert resumed == got[3:]


def test_a_conflicting_append_never_reaches_the_feed(
    strategy: CassandraActiveRecordStrategy[SequencedItem],
) -> None:
    start = settled_position()
    sequence_id = uuid4()
    strategy.append(items(sequence_id, range(2)))
    with pytest.raises(Exception, match="already taken"):
        strategy.append([SequencedItem(sequence_id, 1, TOPIC, '{"other":1}')])
    time.sleep(DELAY + 0.2)
    assert [o.item for o in read_everything(strategy, start)] == items(sequence_id, range(2))


@pytest.mark.parametrize(
    ("step", "stored"),
    [("announced", False), ("sending", False), ("stored", True)],
)
def test_a_writer_killed_at_each_step(step: str, stored: bool) -> None:
    start = settled_position()
    before, victim, after_ = uuid4(), uuid4(), uuid4()
    reader = Reader(start)
    reader.start()
    strategy = make_strategy()
    strategy.append(items(before, range(2)))
    code = run_writer(writer_that(step, killed, victim, range(3)))
    assert code == 9
    strategy.append(items(after_, range(2)))
    during = reader.stop()
    everything = read_everything(strategy, start)
    check_agree(during, everything)
    expected = items(before, range(2)) + (items(victim, range(3)) if stored else []) \
        + items(after_, range(2))
    assert [o.item for o in everything] == expected
    assert strategy.get_items(victim) == (items(victim, range(3)) if stored else [])
    strategy.close()


@pytest.mark.parametrize(
    ("step", "passed"),
    [
        # its entry took too long: abandoned, a new one is written
        ("announced", ["announced", "announced", "sending", "stored"]),
        # a reader voids the entry before the rows land: the writer announces them again
        ("sending", ["announced", "sending", "stored", "announced", "reannounced"]),
        # a reader adopts the entry before the writer confirms it: nothing more to do
        ("stored", ["announced", "sending", "stored"]),
    ],
)
def test_a_writer_held_past_the_bounds_at_each_step(
    step: str, passed: list[str], tmp_path: Path
) -> None:
    start = settled_position()
    victim, other = uuid4(), uuid4()
    reader = Reader(start)
    reader.start()
    steps_file = tmp_path / "steps"
    code = run_writer(writer_that(step, lambda: time.sleep(DELAY * 2), victim, range(3),
                                  steps_file))
    assert code == 0
    assert steps_file.read_text().split() == passed  # the path meant was the path taken
    strategy = make_strategy()
    strategy.append(items(other, range(1)))
    during = reader.stop()
    everything = read_everything(strategy, start)
    check_agree(during, everything)
    expected = items(victim, range(3)) + items(other, range(1))
    assert sorted(o.item for o in everything) == sorted(expected)
    strategy.close()


def test_writer_clocks_within_the_bound_lose_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers whose clocks are 0.6 s behind and ahead (the bound is 1.0 - 0.3 = 0.7 s)."""
    start = settled_position() - feed_module.encode(1_000_000, 0, 0)
    reader = Reader(start)
    reader.start()
    sequences = [uuid4(), uuid4()]

    def skewed(sequence_id: UUID, skew_us: int) -> Callable[[], None]:
        def write() -> None:
            real = feed_module.now_us
            feed_module.now_us = lambda: real() + skew_us  # type: ignore[assignment]
            strategy = make_strategy()
            for p in range(0, 30, 3):
                strategy.append(items(sequence_id, range(p, p + 3)))
            strategy.close()
        return write

    processes = [multiprocessing.get_context("fork").Process(target=_child, args=(skewed(s, k),))
                 for s, k in zip(sequences, (-600_000, 600_000), strict=True)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0]
    during = reader.stop()
    everything = read_everything(make_strategy(), start)
    check_agree(during, everything)
    for sequence_id in sequences:
        assert [o.item for o in everything if o.item[0] == sequence_id] == items(
            sequence_id, range(30))


def test_a_store_without_a_feed_says_so() -> None:
    strategy = make_strategy(feed=False)
    try:
        assert not strategy.capabilities.global_order
        strategy.append(items(uuid4(), range(1)))
        with pytest.raises(ConfigurationError, match="feed"):
            strategy.read_all(0, 10)
        with pytest.raises(ConfigurationError):
            CatchUpSubscription(strategy)
    finally:
        strategy.close()


def test_the_delay_is_declared() -> None:
    """The kit's global-order tests (test_cassandra_conformance.py) wait this long."""
    strategy = make_strategy()
    try:
        assert strategy.capabilities.global_order
        assert strategy.capabilities.global_order_delay == DELAY
    finally:
        strategy.close()
