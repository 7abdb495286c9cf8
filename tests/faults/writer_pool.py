"""Writer processes (``fault_writer.py``) started, killed and stopped by a test, and the check
of what they stored against what each of them was told."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from fault_writer import attempt_items
from outcomes import Attempt, Report, attempt_key, count_doubles, tally

WRITER = Path(__file__).with_name("fault_writer.py")
#: Seconds a writer has to start (import, connect) and to stop when asked.
WRITER_SECONDS = 60.0


class WriterPool:
    """Writer processes appending to ``sequences`` of the database at ``uri``."""

    def __init__(self, uri: str, folder: Path, sequences: int = 6) -> None:
        self.uri = uri
        self.folder = folder
        self.sequence_ids = [uuid4() for _ in range(sequences)]
        self.stop_file = folder / "stop"
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self.kills = 0

    def start(self, count: int = 1) -> list[str]:
        names = []
        for _ in range(count):
            name = f"w{len(self.logs)}"
            log = self.folder / f"{name}.log"
            self.logs[name] = log
            with open(self.folder / f"{name}.err", "wb") as stderr:
                self.running[name] = subprocess.Popen(
                    [sys.executable, str(WRITER), self.uri, str(log), name, str(self.stop_file),
                     *map(str, self.sequence_ids)],
                    stdin=subprocess.DEVNULL, stderr=stderr,
                )
            names.append(name)
        return names

    def lines(self, name: str) -> list[str]:
        try:
            return self.logs[name].read_text().splitlines()
        except FileNotFoundError:
            return []

    def wait_until_writing(self, name: str, attempts: int = 1) -> None:
        """Until ``name`` has made ``attempts`` attempts (it failed: AssertionError)."""
        deadline = time.monotonic() + WRITER_SECONDS
        while sum(line.startswith("try ") for line in self.lines(name)) < attempts:
            process = self.running[name]
            assert process.poll() is None, f"writer {name} exited: {self.stderr(name)}"
            assert time.monotonic() < deadline, f"{name} made no attempt: {self.stderr(name)}"
            time.sleep(0.02)

    def count(self, kind: str) -> int:
        """Lines of every writer that start with ``kind`` ("try", "ok", "failed", ...)."""
        return sum(line.startswith(f"{kind} ") for name in self.logs for line in self.lines(name))

    def wait_for(self, kind: str, more: int, seconds: float = WRITER_SECONDS) -> None:
        """Until the writers have written ``more`` lines of ``kind`` from now on."""
        target = self.count(kind) + more
        deadline = time.monotonic() + seconds
        while self.count(kind) < target:
            for name, process in self.running.items():
                assert process.poll() is None, f"writer {name} exited: {self.stderr(name)}"
            assert time.monotonic() < deadline, (
                f"the writers did not get {more} more {kind!r} within {seconds:.0f} s: "
                + " | ".join(self.lines(name)[-1] for name in self.running if self.lines(name))
            )
            time.sleep(0.02)

    def any_in_flight(self) -> bool:
        """Whether some writer has an append in flight (its last line is a ``try``)."""
        for name in self.running:
            lines = self.lines(name)
            if lines and lines[-1].startswith("try "):
                return True
        return False

    def stderr(self, name: str) -> str:
        return (self.folder / f"{name}.err").read_text(errors="replace")[-2000:]

    def kill_mid_append(self, name: str, rng: random.Random) -> None:
        """SIGKILL ``name`` at a random moment while an append of it is in flight."""
        time.sleep(rng.uniform(0.0, 0.3))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = self.lines(name)
            if lines and lines[-1].startswith("try "):
                break
            time.sleep(0.001)
        self.running[name].send_signal(signal.SIGKILL)
        self.running.pop(name).wait()
        self.kills += 1

    def stop(self) -> None:
        """Ask every writer to stop; kill any that has not within ``WRITER_SECONDS``."""
        self.stop_file.touch()
        deadline = time.monotonic() + WRITER_SECONDS
        for name, process in list(self.running.items()):
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise AssertionError(f"writer {name} did not stop: {self.stderr(name)}") from None
            assert process.returncode == 0, f"writer {name} failed: {self.stderr(name)}"
        self.running.clear()

    def attempts(self) -> list[Attempt]:
        """Every attempt of every writer, with the outcome the store reported to it."""
        found: dict[str, Attempt] = {}
        for name in self.logs:
            for line in self.lines(name):
                kind, _, rest = line.partition(" ")
                key, _, message = rest.partition(" ")
                if kind == "try":
                    sequence, first, _size = message.split()
                    found[key] = Attempt(key, attempt_items(UUID(sequence), int(first), key),
                                         outcome="unknown", in_flight=True)
                elif key in found and kind != "ready":
                    attempt = found[key]
                    attempt.in_flight = False
                    attempt.message = message
                    attempt.outcome = {"ok": "ok", "conflict": "not_written",
                                       "failed": "not_written"}.get(kind, kind)
        return list(found.values())

    def check(self, case: str, reader: Any) -> Report:
        """The report of everything the writers did, read back with ``reader`` (a strategy)."""
        attempts = self.attempts()
        by_attempt: dict[str | None, list[Any]] = {}
        positions: list[tuple[Any, Any]] = []
        for sequence_id in self.sequence_ids:
            for item in reader.get_items(sequence_id):
                by_attempt.setdefault(attempt_key(item), []).append(item)
                positions.append((item.sequence_id, item.position))
        report = tally(case, attempts, lambda attempt: by_attempt.get(attempt.key, []))
        doubled, which = count_doubles(positions)
        report.duplicated += doubled
        if which:
            report.note("duplicated", None, f"positions read twice: {which[:5]}")
        known = {attempt.key for attempt in attempts}
        strangers = [key for key in by_attempt if key not in known]
        if strangers:
            report.wrong += len(strangers)
            report.note("wrong", None, f"stored by no logged attempt: {strangers[:5]}")
        # The global order: every stored item once, at one global position.
        ours = set(positions)
        feed: list[tuple[int, Any]] = []
        after = 0
        while True:
            page = reader.read_all(after=after, limit=500)
            if not page:
                break
            feed += [(entry.global_position, entry.item) for entry in page
                     if (entry.item.sequence_id, entry.item.position) in ours]
            after = page[-1].global_position
        doubled_globals, _ = count_doubles(position for position, _item in feed)
        doubled_in_feed, which = count_doubles(
            (item.sequence_id, item.position) for _position, item in feed
        )
        report.duplicated += doubled_globals + doubled_in_feed
        if which:
            report.note("duplicated", None, f"met twice in read_all: {which[:5]}")
        missing = len(ours) - len({(item.sequence_id, item.position) for _p, item in feed})
        if missing:
            report.lost += missing
            report.note("lost", None, f"{missing} stored items are not in read_all")
        report.extra["writer_kills"] = self.kills
        return report
