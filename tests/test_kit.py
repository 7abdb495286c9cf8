"""The backend kit itself: it runs what the capabilities call for, and it catches backends
that claim more than they do, or that break when their process forks."""

from __future__ import annotations

import inspect
import os
import sqlite3
import tempfile
import time
import unittest
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from eventstore_core import (
    AbstractActiveRecordStrategy,
    Capabilities,
    ConcurrencyError,
    DatastoreError,
    EnvelopedItem,
    InMemoryActiveRecordStrategy,
    SequencedItem,
)
from eventstore_core.testing import BackendTestCase
from eventstore_core.testing.requirements import requirements_of
from eventstore_core.testing.stream_tests import StreamTests


def run(case_class: type[unittest.TestCase], *names: str) -> unittest.TestResult:
    """Run tests of a kit subclass (all, or the ones named) the way unittest would."""
    loader = unittest.TestLoader()
    if names:
        suite = unittest.TestSuite(case_class(name) for name in names)
    else:
        suite = loader.loadTestsFromTestCase(case_class)
    result = unittest.TestResult()
    suite.run(result)
    return result


def failed(result: unittest.TestResult) -> set[str]:
    return {case._testMethodName for case, _ in result.failures + result.errors}  # type: ignore[attr-defined]


def test_every_capability_has_tests_for_both_answers() -> None:
    tests = [f for name, f in inspect.getmembers(BackendTestCase, inspect.isfunction)
             if name.startswith("test_")]
    required = {requirement for test in tests for requirement in requirements_of(test)}
    for capability in fields(Capabilities):
        if capability.type not in (bool, "bool"):
            continue  # a figure such as global_order_delay: the tests of its flag use it
        assert (capability.name, True) in required, f"nothing tests {capability.name}"


# -- a backend that declares what it does not do ------------------------------------------------
class NotAtomicAcrossSequences(InMemoryActiveRecordStrategy[Any]):
    """Declares ``transactions_across_sequences`` but writes one sequence after the other."""

    capabilities = Capabilities(transactions_across_sequences=True,
                                shared_between_processes=False, global_order=True)

    def _append(self, items: list[Any]) -> None:
        by_sequence: dict[Any, list[Any]] = {}
        for item in items:
            by_sequence.setdefault(item[0], []).append(item)
        for run_of_items in by_sequence.values():
            super()._append(run_of_items)


class TestClaimsTooMuch(BackendTestCase):
    __test__ = False  # run by the test below, expected to fail

    def create_strategy(self, record: str = "integer") -> InMemoryActiveRecordStrategy[Any]:
        return self.__dict__.setdefault("_store", NotAtomicAcrossSequences())


def test_a_declared_capability_that_is_not_honoured_fails() -> None:
    result = run(TestClaimsTooMuch)
    assert failed(result) == {"test_list_spanning_sequences_is_all_or_nothing"}
    skipped = {case._testMethodName: reason for case, reason in result.skipped}  # type: ignore[attr-defined]
    assert "declare capabilities.shared_between_processes" in skipped[
        "test_processes_racing_for_positions"]
    assert "set backend_name" in skipped["test_entry_point_loads"]


# -- backends that claim the append semantics of issue 12 but do not keep them -------------------
class CheckThenWrite(InMemoryActiveRecordStrategy[Any]):
    """Checks the expected version, then writes: two steps, with a round trip between (as a
    backend that reads the last position and then inserts would), not one atomic step."""

    def _append_expecting(self, items: list[Any], expected: Any) -> None:
        last = self.get_items(items[0][0], limit=1, is_ascending=False)
        found = last[0][1] if last else None
        if not self.expected_met(expected, found):
            raise self.wrong_expected_version(items[0][0], expected, found)
        time.sleep(0.01)  # the round trip to the database
        self._append(items)


class RetriesAreConflicts(InMemoryActiveRecordStrategy[Any]):
    """Stores event ids but treats a retry (same ids, same positions) as a conflict."""

    def _taken(self, items: list[Any]) -> list[tuple[Any, Any]]:
        taken = super()._taken(items)
        if taken:
            raise self.taken_error([new for new, _ in taken])
        return taken


STREAM_TESTS = [name for name in dir(StreamTests) if name.startswith("test_")]


def _case(strategy_class: type) -> type[BackendTestCase]:
    class Case(BackendTestCase):
        __test__ = False

        def create_strategy(self, record: str = "integer") -> Any:
            stores = self.__dict__.setdefault("_stores", {})
            if record not in stores:
                stores[record] = strategy_class(
                    sequenced_item_class=EnvelopedItem if record == "enveloped"
                    else SequencedItem)
            return stores[record]

    return Case


def test_an_expected_version_checked_apart_from_the_write_fails_the_kit() -> None:
    result = run(_case(CheckThenWrite), "test_racers_expecting_the_same_version_one_wins",
                 "test_expected_no_stream", "test_expected_exact_position_of_the_last_event")
    assert failed(result) == {"test_racers_expecting_the_same_version_one_wins"}


def test_a_retry_taken_for_a_conflict_fails_the_kit() -> None:
    result = run(_case(RetriesAreConflicts), *STREAM_TESTS)
    assert failed(result) == {
        "test_the_same_events_again_write_nothing",
        "test_a_retry_of_a_list_cut_off_midway_completes_it",
        "test_racers_retrying_the_same_list_store_it_once",
        "test_a_retry_with_an_expected_version_succeeds",
        "test_events_get_their_own_ids_or_new_ones",
    }


# -- a backend that is unsafe across fork -------------------------------------------------------
#: path -> (session token file, {pid: strategies open}): one "session" per path, released when
#: the last strategy of a process closes. A forked child inherits the parent's session and,
#: closing its strategy, frees it for the parent too (as the issue found with LMDB's reader
#: slots); a spawned child opens a session of its own.
SESSIONS: dict[str, tuple[str, dict[int, int]]] = {}
STORE = os.environ.setdefault(  # the same file in spawned children, which import this afresh
    "EVENTSTORE_TEST_KIT_STORE", str(Path(tempfile.mkdtemp(prefix="kit-")) / "items.db"))


class SessionStrategy(AbstractActiveRecordStrategy[Any]):
    capabilities = Capabilities(transactions_across_sequences=True)

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        session = SESSIONS.get(path)
        if session is None:
            token = f"{path}.session-{os.getpid()}"
            Path(token).touch()
            session = SESSIONS[path] = (token, {})
        users = session[1]
        users[os.getpid()] = users.get(os.getpid(), 0) + 1
        self.session = session
        self.db = sqlite3.connect(path, timeout=60, check_same_thread=False)
        with self.db:
            self.db.execute("CREATE TABLE IF NOT EXISTS items (s TEXT, p INTEGER, t TEXT, "
                            "d TEXT, PRIMARY KEY (s, p))")

    def _session(self) -> sqlite3.Connection:
        if not os.path.exists(self.session[0]):
            raise DatastoreError(f"the session of {self.path} was freed by another process")
        return self.db

    def _append(self, items: list[Any]) -> None:
        try:
            with self._session() as db:
                db.executemany("INSERT INTO items VALUES (?, ?, ?, ?)",
                               [(str(i[0]), i[1], i[2], i[3]) for i in items])
        except sqlite3.IntegrityError:
            raise ConcurrencyError(
                f"a position of sequence {', '.join(sorted({str(i[0]) for i in items}))} is "
                f"already taken") from None

    def _get_items(self, sequence_id: Any, gt: Any, gte: Any, lt: Any, lte: Any,
                   limit: int | None, is_ascending: bool) -> list[Any]:
        where, params = ["s = ?"], [str(sequence_id)]
        for op, bound in ((">", gt), (">=", gte), ("<", lt), ("<=", lte)):
            if bound is not None:
                where.append(f"p {op} ?")
                params.append(bound)
        sql = (f"SELECT p, t, d FROM items WHERE {' AND '.join(where)} "
               f"ORDER BY p {'ASC' if is_ascending else 'DESC'} LIMIT {limit or -1}")
        rows = self._session().execute(sql, params).fetchall()
        return [SequencedItem(sequence_id, *row) for row in rows]

    def _iter_pages(self, page_size: int) -> Iterator[list[Any]]:
        from uuid import UUID

        rows = self._session().execute("SELECT s, p, t, d FROM items ORDER BY s, p").fetchall()
        for start in range(0, len(rows), page_size):
            yield [SequencedItem(UUID(r[0]), *r[1:]) for r in rows[start:start + page_size]]

    def close(self) -> None:
        self.db.close()
        users = self.session[1]
        users[os.getpid()] -= 1
        if users[os.getpid()] == 0:
            SESSIONS.pop(self.path, None)
            Path(self.session[0]).unlink(missing_ok=True)


class TestSessionsSpawned(BackendTestCase):
    __test__ = False  # run by the tests below
    racers = 3
    race_positions = 10

    def create_strategy(self, record: str = "integer") -> SessionStrategy:
        return SessionStrategy(STORE)


class TestSessionsForked(TestSessionsSpawned):
    __test__ = False
    start_method = "fork"


def test_a_backend_unsafe_across_fork_is_caught_with_fork() -> None:
    result = run(TestSessionsForked, "test_processes_racing_for_positions")
    assert failed(result) == {"test_processes_racing_for_positions"}
    traces = [trace for _, trace in result.errors + result.failures]
    assert "was freed by another process" in traces[0]


def test_the_same_backend_passes_with_spawn_the_default() -> None:
    assert TestSessionsSpawned.start_method == "spawn"
    result = run(TestSessionsSpawned)
    assert failed(result) == set(), result.failures + result.errors
    assert result.testsRun > 20
