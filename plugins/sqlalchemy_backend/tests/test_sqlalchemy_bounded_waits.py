"""A server that stops answering ends every call within a bound (issue 15, part 3).

PostgreSQL and MariaDB: a private server started here on 127.0.0.2 (never the shared ones) is
frozen with ``SIGSTOP``; calls with ``server_timeout=2`` end with ``DatastoreError`` instead
of waiting as long as the freeze. SQLite: a writer kept out by another connection's lock gives
up after ``sqlite_busy_timeout`` in all, retries included. Each call runs in a thread that the
test joins for 30 seconds, far beyond the bound and far below the freeze (which lasts until
the test ends).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventstore_core.exceptions import DatastoreError
from eventstore_core.sequenceditem import SequencedItem

from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy, SQLAlchemySettings

TOPIC = "eventstore_core.events#DomainEvent"
HOST = "127.0.0.2"
JOIN = 30.0


def item(sequence_id: Any, position: int) -> SequencedItem:
    return SequencedItem(sequence_id, position, TOPIC, "{}")


def ends_with(call: Callable[[], Any]) -> BaseException | None:
    """What ``call`` raised (None if it returned), failing if it is still waiting."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as error:  # reported to the test
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(JOIN)
    assert outcome, f"the call was still waiting after {JOIN} s"
    return outcome[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the private server exited"
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the private server did not listen on {HOST}:{port}")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (PostgreSQL's backends each have a session of
    their own, so a process group is not enough)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


class Frozen:
    """A private server's processes, stopped and continued."""

    def __init__(self, server: subprocess.Popen[bytes]) -> None:
        self.server = server
        self.stopped: list[int] = []

    def _signal(self, pids: list[int], number: int) -> None:
        for pid in pids:
            try:
                os.kill(pid, number)
            except ProcessLookupError:
                pass

    def freeze(self) -> None:
        self.stopped = descendants(self.server.pid)
        self._signal(self.stopped, signal.SIGSTOP)

    def end(self) -> None:
        self._signal(self.stopped, signal.SIGCONT)
        self._signal([self.server.pid], signal.SIGTERM)
        try:
            self.server.wait(30)
        except subprocess.TimeoutExpired:
            self._signal(descendants(self.server.pid), signal.SIGKILL)
            self.server.wait(30)


def _need(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None and not Path(p).exists()]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")


@pytest.fixture
def private_mariadb() -> Iterator[tuple[str, Frozen]]:
    _need("mariadbd", "mariadb-install-db")
    folder = tempfile.mkdtemp(prefix="eventstore-private-mariadb-")
    data = Path(folder) / "data"
    subprocess.run(
        ["mariadb-install-db", f"--datadir={data}", "--user=root",
         "--auth-root-authentication-method=normal", "--skip-test-db"],
        check=True, capture_output=True, timeout=120,
    )
    port = free_port()
    server = subprocess.Popen(
        ["mariadbd", "--no-defaults", f"--datadir={data}", "--user=root",
         f"--bind-address={HOST}", f"--port={port}", f"--socket={folder}/mysql.sock",
         f"--pid-file={folder}/mysql.pid", "--skip-grant-tables", "--skip-log-bin",
         "--innodb-buffer-pool-size=16M"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    frozen = Frozen(server)
    try:
        wait_for_port(port, server)
        yield f"mysql+pymysql://root@{HOST}:{port}/mysql", frozen
    finally:
        frozen.end()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[tuple[str, Frozen]]:
    bin_dir = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)
    if bin_dir is None or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL's server programs and root (to run them as postgres)")
    folder = tempfile.mkdtemp(prefix="eventstore-private-postgres-")
    shutil.chown(folder, "postgres")
    data = Path(folder) / "data"
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(bin_dir / "initdb"), "-D", str(data),
         "--auth=trust", "-U", "postgres"],
        check=True, capture_output=True, timeout=120,
    )
    port = free_port()
    server = subprocess.Popen(
        ["runuser", "-u", "postgres", "--", str(bin_dir / "postgres"), "-D", str(data),
         "-h", HOST, "-p", str(port), "-k", folder, "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    frozen = Frozen(server)
    try:
        wait_for_port(port, server)
        time.sleep(0.5)  # listening before it accepts sessions
        yield f"postgresql+psycopg://postgres@{HOST}:{port}/postgres", frozen
    finally:
        frozen.end()
        shutil.rmtree(folder, ignore_errors=True)


def _frozen_calls_end(uri: str, frozen: Frozen) -> list[BaseException | None]:
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        settings=SQLAlchemySettings(uri, server_timeout=2)
    )
    sequence_id = uuid4()
    strategy.append(item(sequence_id, 0))  # connected, tables made
    frozen.freeze()
    outcomes = [
        ends_with(lambda: strategy.append(item(sequence_id, 1))),
        ends_with(lambda: strategy.append([item(sequence_id, 2), item(sequence_id, 3)])),
        ends_with(lambda: strategy.get_items(sequence_id)),
        ends_with(lambda: strategy.read_all(0, 10)),
    ]
    return outcomes


def test_a_frozen_mariadb_ends_every_call(private_mariadb: tuple[str, Frozen]) -> None:
    uri, frozen = private_mariadb
    for outcome in _frozen_calls_end(uri, frozen):
        assert isinstance(outcome, DatastoreError), outcome


def test_a_frozen_postgres_ends_every_call(private_postgres: tuple[str, Frozen]) -> None:
    uri, frozen = private_postgres
    for outcome in _frozen_calls_end(uri, frozen):
        assert isinstance(outcome, DatastoreError), outcome
        # a call on a connection: the bound; one that needs a new connection: connect_timeout
        message = str(outcome)
        assert "server_timeout=2 s" in message or "running and reachable" in message, message


def test_sqlite_busy_is_retried_no_longer_than_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite3"
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        settings=SQLAlchemySettings(f"sqlite:///{path}", sqlite_busy_timeout=1)
    )
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held until the test ends
    try:
        outcome = ends_with(lambda: strategy.append(item(uuid4(), 0)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert isinstance(outcome, DatastoreError) and "busy" in str(outcome), outcome
    strategy.append(item(uuid4(), 0))
    strategy.close()
