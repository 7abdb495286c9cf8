"""The real server killed (``kill -9``) and restarted, or paused, while appends go on.

Named to run last (and marked ``faults``: ``pytest -m "not faults"`` leaves them out): they
stop the server that every other test uses, and start it again with
``scripts/servers/cassandra.sh start`` before they end, whatever happens.

What must hold: while the server is gone, every append fails within a bounded time with one
of the project's errors naming the server; a ``DatastoreError`` that is not an
``OutcomeUnknownError`` means nothing was written; after the restart appends work again; every
append that returned normally is stored, whole; nothing is ever half-stored.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
from cassandra_server import SERVER_SCRIPT, server_script, test_settings
from eventstore_core.exceptions import DatastoreError, OutcomeUnknownError
from eventstore_core.sequenceditem import SequencedItem

from eventstore_cassandra import CassandraActiveRecordStrategy

pytestmark = pytest.mark.faults

TOPIC = "eventstore_core.events#DomainEvent"
#: Longest time one append may take while the server is down or paused.
APPEND_BOUND = 30.0


def server_pid() -> int:
    """The pid of the Cassandra that ``cassandra.sh`` runs (skip/fail if it runs none)."""
    if not SERVER_SCRIPT.exists():
        pytest.skip(f"{SERVER_SCRIPT} is not beside this checkout")
    found = server_script("pid", timeout=30)
    if found.returncode != 0 or not found.stdout.strip().isdigit():
        pytest.fail("the Cassandra under test was not started by scripts/servers/cassandra.sh "
                    f"(it reports no pid: {found.stdout} {found.stderr})")
    return int(found.stdout.strip())


@pytest.fixture(autouse=True)
def server_comes_back() -> Iterator[None]:
    """Whatever a test did to the server, it is running and answering afterwards."""
    yield
    pid = server_script("pid", timeout=30).stdout.strip()
    if pid.isdigit():
        os.kill(int(pid), signal.SIGCONT)
    started = server_script("start")
    assert started.returncode == 0, started.stderr


@dataclass
class Attempt:
    sequence_id: UUID
    items: list[SequencedItem]
    outcome: str  # ok, failed (not written), unknown, or other:<repr>
    seconds: float
    message: str = ""


@dataclass
class Writer:
    """Appends three-item lists, each to a new sequence, until told to stop."""

    strategy: CassandraActiveRecordStrategy[SequencedItem]
    attempts: list[Attempt] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            sequence_id = uuid4()
            items = [SequencedItem(sequence_id, p, TOPIC, f'{{"p":{p}}}') for p in range(3)]
            started = time.monotonic()
            outcome, message = "ok", ""
            try:
                self.strategy.append(items)
            except OutcomeUnknownError as error:
                outcome, message = "unknown", str(error)
            except DatastoreError as error:
                outcome, message = "failed", str(error)
            except Exception as error:  # reported by the test
                outcome, message = f"other:{error!r}", str(error)
            self.attempts.append(
                Attempt(sequence_id, items, outcome, time.monotonic() - started, message)
            )
            if outcome != "ok":
                time.sleep(0.05)

    def count(self, outcome: str, since: int = 0) -> int:
        return sum(1 for attempt in self.attempts[since:] if attempt.outcome == outcome)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.1)


def check_stored(strategy: CassandraActiveRecordStrategy[Any], attempts: list[Attempt]) -> None:
    for attempt in attempts:
        stored = strategy.get_items(attempt.sequence_id)
        if attempt.outcome == "ok":
            assert stored == attempt.items, f"acknowledged append lost: {attempt}"
        elif attempt.outcome == "failed":
            assert stored == [], f"append reported as not written is there: {attempt}"
        else:
            assert stored in ([], attempt.items), f"half-stored append: {attempt}"


def test_kill_and_restart_during_appends() -> None:
    strategy: CassandraActiveRecordStrategy[SequencedItem] = CassandraActiveRecordStrategy(
        settings=test_settings(request_timeout=5.0, connect_timeout=3.0)
    )
    writer = Writer(strategy)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: writer.count("ok") >= 50, 60, "50 appends before the kill")
        os.kill(server_pid(), signal.SIGKILL)
        killed_at = len(writer.attempts)
        wait_for(lambda: writer.count("failed", killed_at) >= 5, 60,
                 "appends to fail while the server is down")
        started = server_script("start")
        assert started.returncode == 0, f"restart failed: {started.stderr}"
        restarted_at = len(writer.attempts)
        wait_for(lambda: writer.count("ok", restarted_at) >= 50, 120,
                 "50 appends after the restart")
    finally:
        writer.stop.set()
        thread.join(timeout=APPEND_BOUND + 10)
    try:
        others = [a for a in writer.attempts if a.outcome.startswith("other")]
        assert others == [], f"errors that are not the project's: {others[:3]}"
        failures = [a for a in writer.attempts if a.outcome != "ok"]
        assert failures, "no append failed while the server was down"
        assert all("127.0.0.1:9042" in a.message for a in failures), failures[:3]
        slowest = max(a.seconds for a in writer.attempts)
        assert slowest < APPEND_BOUND, f"an append took {slowest:.1f} s"
        check_stored(strategy, writer.attempts)
    finally:
        strategy.close()


def test_a_paused_server_gives_outcome_unknown_and_recovers() -> None:
    # Without the feed, the conditional write is the append's first request, the one that
    # meets the pause (with it, the feed entry's plain write times out first: a
    # DatastoreError saying nothing of the append was written).
    strategy: CassandraActiveRecordStrategy[SequencedItem] = CassandraActiveRecordStrategy(
        settings=test_settings(request_timeout=2.0, feed=False)
    )
    try:
        strategy.append(SequencedItem(uuid4(), 0, TOPIC, "{}"))
        sequence_id = uuid4()
        items = [SequencedItem(sequence_id, p, TOPIC, f'{{"p":{p}}}') for p in range(3)]
        pid = server_pid()
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        try:
            with pytest.raises(OutcomeUnknownError) as caught:
                strategy.append(items)
        finally:
            os.kill(pid, signal.SIGCONT)
        assert time.monotonic() - started < APPEND_BOUND
        assert str(sequence_id) in str(caught.value) and "read the sequence" in str(caught.value)

        def appends_work() -> bool:
            try:
                strategy.append(SequencedItem(uuid4(), 0, TOPIC, "{}"))
            except DatastoreError:
                return False
            return True

        wait_for(appends_work, 60, "appends to work after the pause")
        assert strategy.get_items(sequence_id) in ([], items)  # whole or not at all
    finally:
        strategy.close()
