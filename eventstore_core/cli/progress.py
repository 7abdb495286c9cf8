"""Progress of long work, on standard error: a bar with rate and time left on a terminal,
plain lines (at most one every few seconds, and one at the end) when it is not one."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

#: Seconds between two plain progress lines.
PLAIN_INTERVAL = 5.0


def make_progress(label: str, unit: str = "items", enabled: bool = True) -> Any:
    """The progress display for ``label`` (e.g. "copy") fitting standard error."""
    if not enabled:
        return NoProgress()
    if sys.stderr.isatty():
        return BarProgress(label, unit)
    return PlainProgress(label, unit, sys.stderr)


class NoProgress:
    def start(self, total: int | None, done: int = 0) -> None:
        pass

    def advance(self, count: int) -> None:
        pass

    def finish(self) -> None:
        pass


def _rate_and_left(done: int, total: int | None, started_at: int, elapsed: float) -> tuple[
    float, float | None
]:
    rate = (done - started_at) / elapsed if elapsed > 0 else 0.0
    left = (total - done) / rate if total is not None and rate > 0 else None
    return rate, left


class PlainProgress:
    """``copy: 30,000/100,000 items (30%), 12,000 items/s, 6 s left`` every few seconds."""

    def __init__(self, label: str, unit: str, out: IO[str], interval: float = PLAIN_INTERVAL):
        self.label, self.unit, self.out, self.interval = label, unit, out, interval
        self.total: int | None = None
        self.done = self.started_at = 0
        self.start_time = self.last_line = 0.0

    def start(self, total: int | None, done: int = 0) -> None:
        self.total, self.done, self.started_at = total, done, done
        self.start_time = self.last_line = time.monotonic()
        if done:
            self._line(f"resuming after {done:,} {self.unit}")

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last_line >= self.interval:
            self.last_line = now
            rate, left = _rate_and_left(self.done, self.total, self.started_at,
                                        now - self.start_time)
            of = f"/{self.total:,}" if self.total is not None else ""
            share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
            eta = f", {left:,.0f} s left" if left is not None else ""
            self._line(f"{self.done:,}{of} {self.unit}{share}, {rate:,.0f} {self.unit}/s{eta}")

    def finish(self) -> None:
        elapsed = time.monotonic() - self.start_time
        rate, _ = _rate_and_left(self.done, self.total, self.started_at, elapsed)
        if self.started_at:  # resumed: what this run did, beside the whole
            now = self.done - self.started_at
            self._line(f"{self.done:,} {self.unit} ({now:,} in {elapsed:,.1f} s, "
                       f"{rate:,.0f} {self.unit}/s)")
        else:
            self._line(f"{self.done:,} {self.unit} in {elapsed:,.1f} s "
                       f"({rate:,.0f} {self.unit}/s)")

    def _line(self, text: str) -> None:
        print(f"{self.label}: {text}", file=self.out, flush=True)


class BarProgress:
    """A rich progress bar: done/total, rate, time left."""

    def __init__(self, label: str, unit: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                return Text(f"{speed:,.0f} {unit}/s" if speed else f"? {unit}/s")

        self.label = label
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), RateColumn(), TimeElapsedColumn(), TextColumn("elapsed,"),
            TimeRemainingColumn(), TextColumn("left"), console=Console(stderr=True),
            transient=False,
        )
        self.task: Any = None

    def start(self, total: int | None, done: int = 0) -> None:
        self.progress.start()
        self.task = self.progress.add_task(self.label, total=total, completed=done)

    def advance(self, count: int) -> None:
        self.progress.advance(self.task, count)

    def finish(self) -> None:
        self.progress.stop()

    def __del__(self) -> None:  # an error mid-way: leave the terminal clean
        try:
            self.progress.stop()
        except Exception:
            pass
