"""The sync strategy before and after its operations became step functions, A B A B.

    .venv/bin/python plugins/cassandra_backend/benchmarks/steps_ab.py [--before COMMIT]
        [--rounds 200] [--async]

A is the package ``eventstore_cassandra`` as of ``--before`` (a git commit; default
``3652da9``, the last one before the step functions), copied out of git into a temporary
directory under another name; B is the package as installed. Each round runs A then B (or B
then A, alternating) on the single node, the feed on (the default), operation by operation
(A B, B A, ...), ``--rounds`` operations a side for each measure:

* W1-like: an append of 100 events to a new sequence (time per event);
* W2-like: an append of 1 event to a new sequence;
* reads: a 1,000-event sequence whole, and its last 10 descending.

Prints each measure's median of the pair-by-pair ratios B/A of time (below 1: B is faster).
With ``--async``, a third side C, ``AsyncCassandraActiveRecordStrategy`` on one task (each
call awaited through ``loop.run_until_complete``, which adds some 30 us a call to C), and the
ratios C/B.
Writes into keyspace ``$EVENTSTORE_CASSANDRA_TEST_KEYSPACE`` + ``_bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventstore_core import SequencedItem

TOPIC = "eventstore_core.events#DomainEvent"
PACKAGE = "plugins/cassandra_backend/eventstore_cassandra"
REPO = Path(__file__).resolve().parents[3]


def package_before(commit: str, into: Path) -> Any:
    """The package as of ``commit``, importable as ``eventstore_cassandra_before``."""
    target = into / "eventstore_cassandra_before"
    target.mkdir()
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{commit}:{PACKAGE}"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        if name.endswith((".py", ".typed")):
            text = subprocess.run(["git", "show", f"{commit}:{PACKAGE}/{name}"], cwd=REPO,
                                  capture_output=True, text=True, check=True).stdout
            (target / name).write_text(text)
    sys.path.insert(0, str(into))
    return importlib.import_module("eventstore_cassandra_before")


def items(sequence_id: Any, positions: range) -> list[SequencedItem]:
    return [SequencedItem(sequence_id, p, TOPIC, f'{{"n":{p},"name":"event {p}"}}')
            for p in positions]


class Side:
    """A strategy and how its calls are waited for (sync: as they are; async: on a loop)."""

    def __init__(self, strategy: Any, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.strategy = strategy
        self.loop = loop

    def __call__(self, result: Any) -> Any:
        return result if self.loop is None else self.loop.run_until_complete(result)


def timed(side: Side, operation: Callable[[], Any]) -> float:
    started = time.perf_counter()
    side(operation())
    return time.perf_counter() - started


def w1(side: Side) -> float:
    """Seconds per event of one append of 100 events (to a new sequence)."""
    batch = items(uuid4(), range(100))
    return timed(side, lambda: side.strategy.append(batch)) / 100


def w2(side: Side) -> float:
    """Seconds of one append of one event (to a new sequence)."""
    item = items(uuid4(), range(1))[0]
    return timed(side, lambda: side.strategy.append(item))


def reader(sequence_id: Any, **bounds: Any) -> Callable[[Side], float]:
    def read(side: Side) -> float:
        return timed(side, lambda: side.strategy.get_items(sequence_id, **bounds))
    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="3652da9")
    parser.add_argument("--rounds", type=int, default=200, help="operations per side")
    parser.add_argument("--async", dest="with_async", action="store_true")
    args = parser.parse_args()
    keyspace = os.environ.get("EVENTSTORE_CASSANDRA_TEST_KEYSPACE", "eventstore_tests") + "_bench"
    import eventstore_cassandra as after

    with tempfile.TemporaryDirectory() as directory:
        before = package_before(args.before, Path(directory))
        sides = {
            "A": Side(before.CassandraActiveRecordStrategy(
                settings=before.CassandraSettings(keyspace=keyspace))),
            "B": Side(after.CassandraActiveRecordStrategy(
                settings=after.CassandraSettings(keyspace=keyspace))),
        }
        loop = asyncio.new_event_loop()
        if args.with_async:
            sides["C"] = Side(after.AsyncCassandraActiveRecordStrategy(
                settings=after.CassandraSettings(keyspace=keyspace)), loop)
        long = uuid4()
        for n in range(10):
            sides["B"].strategy.append(items(long, range(n * 100, n * 100 + 100)))
        measures: dict[str, Callable[[Side], float]] = {
            "W1 append 100 (per event)": w1,
            "W2 append 1": w2,
            "read 1,000 whole": reader(long),
            "read last 10 desc": reader(long, limit=10, is_ascending=False),
        }
        for measure in measures.values():  # warm up every side (prepared statements, pools)
            for warmed in sides.values():
                for _ in range(10):
                    measure(warmed)
        figures: dict[str, dict[str, list[float]]] = {
            name: {side: [] for side in sides} for name in measures}
        for name, measure in measures.items():
            for round_ in range(args.rounds):
                order = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
                for side in order:
                    figures[name][side].append(measure(sides[side]))
        for closing in sides.values():
            closing(closing.strategy.close())
        loop.close()
    print(f"{args.rounds} operations a side, alternated one by one; A = {args.before} (sync), "
          f"B = installed (sync)"
          + (", C = installed (async, one task)" if args.with_async else "")
          + "; medians, and the median of pair-by-pair ratios of time")
    for name, by_side in figures.items():
        line = f"{name:30}" + "".join(
            f" {side} {statistics.median(values) * 1000:8.3f} ms"
            for side, values in by_side.items())
        line += f"  B/A {median_ratio(by_side['B'], by_side['A']):.3f}"
        if "C" in by_side:
            line += f"  C/B {median_ratio(by_side['C'], by_side['B']):.3f}"
        print(line)


def median_ratio(top: list[float], bottom: list[float]) -> float:
    return statistics.median(t / b for t, b in zip(top, bottom, strict=True))


if __name__ == "__main__":
    main()
