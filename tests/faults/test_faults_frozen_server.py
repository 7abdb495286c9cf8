"""Case 3: a frozen server (SIGSTOP of the private PostgreSQL or MariaDB, every process of it),
and on SQLite a writer frozen while it holds the write lock.

Each call of the store (an append of a list, of one item, a read of a sequence, a read of the
global order, a new store connecting) runs in a thread of its own, on a store that was working
a moment before. Every call must end within ``BOUND`` seconds with a ``DatastoreError`` (on
SQLite: the appends, after ``sqlite_busy_timeout=1``; reads there do not wait for writers).
A watchdog gives up on a call after ``WATCHDOG`` seconds; then the server is thawed, and what
the appends left is checked against what they reported, as in the other cases.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy, SQLAlchemySettings
from fault_writer import attempt_items
from outcomes import Attempt, tally
from private_servers import PrivateServer

from eventstore_core.exceptions import DatastoreError, OutcomeUnknownError

pytestmark = pytest.mark.faults

#: Seconds within which every call must end while the server is frozen.
BOUND = 12.0
#: Seconds after which the test stops waiting for a call (it is then reported as hanging).
WATCHDOG = 15.0
#: Seconds a call has to end once the server is thawed.
AFTER_THAW = 30.0
#: The option of ``SQLAlchemySettings`` that bounds a wait on a server that does not answer
#: (issue 15 part 3), below ``BOUND`` so that the bound is the store's, not the test's.
BOUNDING_OPTIONS: dict[str, Any] = {"server_timeout": 5.0}


@dataclass
class Call:
    name: str
    run: Callable[[], Any]
    attempt: Attempt | None = None  # for appends: what was appended
    outcome: str = "hung"  # ok, DatastoreError, OutcomeUnknownError, other:<type>
    message: str = ""
    seconds: float | None = None  # None: still running
    hung: bool = False  # still running when the watchdog gave up

    def __call__(self) -> None:
        started = time.monotonic()
        try:
            self.run()
            self.outcome = "ok"
        except OutcomeUnknownError as error:
            self.outcome, self.message = "OutcomeUnknownError", str(error)
        except DatastoreError as error:
            self.outcome, self.message = "DatastoreError", str(error)
        except Exception as error:
            self.outcome, self.message = f"other:{type(error).__name__}", str(error)
        self.seconds = time.monotonic() - started
        if self.attempt is not None:
            self.attempt.outcome = {"ok": "ok", "DatastoreError": "not_written",
                                    "OutcomeUnknownError": "unknown"}.get(self.outcome, "other")
            self.attempt.message = self.message

    def describe(self) -> str:
        if self.seconds is None:
            return f"{self.name}=hung>{WATCHDOG:.0f}s,still-running-{AFTER_THAW:.0f}s-after-thaw"
        if self.hung:
            return f"{self.name}=hung>{WATCHDOG:.0f}s,then-{self.outcome}-after-thaw"
        return f"{self.name}={self.outcome}@{self.seconds:.1f}s"


def append_call(name: str, store: Any, size: int) -> Call:
    items = attempt_items(uuid4(), 0, name)[:size]
    call = Call(name, lambda: store.append(items))
    call.attempt = Attempt(name, items)
    return call


def run_frozen(freeze: Callable[[], None], thaw: Callable[[], None], calls: list[Call]) -> None:
    """Start every call with the server frozen; wait up to ``WATCHDOG``; thaw; wait again."""
    freeze()
    threads = [threading.Thread(target=call, daemon=True) for call in calls]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + WATCHDOG
        for thread in threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0))
        for call in calls:
            call.hung = call.seconds is None
    finally:
        thaw()
    deadline = time.monotonic() + AFTER_THAW
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0))


def verdict(case: str, calls: list[Call], reader: Any, errors_required: set[str]) -> None:
    attempts = [call.attempt for call in calls if call.attempt is not None]
    report = tally(case, attempts, lambda a: reader.get_items(a.items[0].sequence_id))
    report.extra["calls"] = " ".join(call.describe() for call in calls)
    report.publish()
    slow = [call.describe() for call in calls
            if call.hung or call.seconds is None or call.seconds > BOUND]
    unclear = [call.describe() for call in calls
               if call.name in errors_required and call.outcome not in
               ("DatastoreError", "OutcomeUnknownError")]
    assert not slow, f"calls that did not end within {BOUND:.0f} s: {slow}\n{report.line()}"
    assert not unclear, f"calls that did not end with a DatastoreError: {unclear}"
    assert not (report.lost or report.partial or report.duplicated or report.wrong), (
        report.line() + "\n" + "\n".join(report.notes)
    )


@pytest.mark.parametrize("private_server", ["postgresql", "mariadb"], indirect=True)
def test_frozen_server(private_server: PrivateServer) -> None:
    stores: list[Any] = []

    def warm_store() -> Any:
        store: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
            settings=SQLAlchemySettings(private_server.uri, **BOUNDING_OPTIONS)
        )
        store.append(attempt_items(uuid4(), 0, "warm-up"))
        store.get_items(uuid4())
        stores.append(store)
        return store

    reading, feed = warm_store(), warm_store()
    calls = [
        append_call("append_list", warm_store(), 3),
        append_call("append_one", warm_store(), 1),
        Call("get_items", lambda: reading.get_items(uuid4())),
        Call("read_all", lambda: feed.read_all(after=0, limit=10)),
        Call("new_store", lambda: stores.append(warm_store())),
    ]
    try:
        run_frozen(private_server.freeze, private_server.thaw, calls)
        verdict(f"frozen {private_server.name}", calls, reading,
                {call.name for call in calls})
    finally:
        for store in stores:
            store.close()


def test_sqlite_writer_frozen_holding_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "frozen.sqlite3"
    uri = f"sqlite:///{path}"
    settings = SQLAlchemySettings(uri, sqlite_busy_timeout=1)
    stores: list[Any] = []

    def store() -> Any:
        made: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
            settings=settings
        )
        stores.append(made)
        return made

    for made in (store(), store(), store()):  # each made (its table checked) before the lock
        made.append(attempt_items(uuid4(), 0, "warm-up"))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE')\n"
         "print('locked', flush=True)\n"
         "time.sleep(600)\n", str(path)],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        calls = [
            append_call("append_list", stores[1], 3),
            append_call("append_one", stores[2], 1),
            Call("get_items", lambda: stores[0].get_items(uuid4())),
        ]
        run_frozen(lambda: holder.send_signal(signal.SIGSTOP), holder.kill, calls)
        verdict("SQLite writer frozen holding the lock, sqlite_busy_timeout=1", calls,
                stores[0], {"append_list", "append_one"})
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
        for made in stores:
            made.close()
