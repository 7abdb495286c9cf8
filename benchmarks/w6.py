"""W6: peak resident memory while reading a very long sequence and iterating every item.

Each measurement runs in a fresh process (peak memory is per process): one process fills the
store with one sequence of ``N`` events, another opens it and (1) iterates over every stored
item, page by page, (2) reads the sequence, page by page, decoding every event. The second
process reports its peak resident memory (``ru_maxrss``), interpreter and imports included.

    python -m benchmarks.w6 fill|measure LIBRARY BACKEND EVENTS [SQLITE_PATH]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from . import workload
from .workloads import Progress

PAGE_SIZE = 1000


def make_side(library: str, backend: str, path: str | None) -> Any:
    if library == "ours":
        from . import ours

        if backend == "sqlite":
            return ours.SQLiteSide(path)
        if backend == "postgres":
            return ours.PostgresSide()
        if backend == "cassandra":
            return ours.CassandraSide()
    if library == "eventsourcing":
        from . import eventsourcing_side

        if backend == "sqlite":
            return eventsourcing_side.SQLiteSide(path)
        if backend == "postgres":
            return eventsourcing_side.PostgresSide()
    raise SystemExit(f"no W6 side for {library} on {backend}")


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, reset by exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(side: Any, events: int) -> None:
    side.reset()
    done = 0
    step = max(events // 10, 1)
    for batch in workload.one_sequence_batches(events):
        side.append(side.make_events(batch))
        done += len(batch)
        if done % step < len(batch):
            print(f"  filled {done:,}/{events:,}", file=sys.stderr, flush=True)
    side.close()


def measure(side: Any, events: int) -> dict[str, float]:
    sequence_id = next(workload.one_sequence_batches(1))[0].sequence_id
    side.open_existing()
    baseline = peak_mb()
    start = time.perf_counter()
    count = sum(1 for _ in side.iter_all(PAGE_SIZE))
    iterate_s = time.perf_counter() - start
    start = time.perf_counter()
    last = -1
    for event in side.iter_sequence(sequence_id, PAGE_SIZE):
        last = side.position_of(event)
    read_s = time.perf_counter() - start
    side.close()
    if count != events or last != events - 1:
        raise SystemExit(f"W6 read {count:,} items and up to position {last}, not {events:,}")
    return {
        "peak_mb": peak_mb(),
        "baseline_mb": baseline,
        "iterate_events_per_s": count / iterate_s,
        "read_events_per_s": events / read_s,
    }


def run_child(args: list[str]) -> dict[str, float] | None:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.w6", *args],
        stdout=subprocess.PIPE, text=True, check=False,
    )
    if completed.returncode != 0:
        return None
    lines = completed.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def run(
    library: str, backend: str, events: int, path: str | None, progress: Progress
) -> dict[str, float] | None:
    tail = [path] if path else []
    progress(f"{library}: filling {events:,} events")
    if run_child(["fill", library, backend, str(events), *tail]) is None:
        progress(f"{library}: fill failed")
        return None
    progress(f"{library}: measuring in a fresh process")
    return run_child(["measure", library, backend, str(events), *tail])


def main(argv: list[str]) -> None:
    action, library, backend, events = argv[:4]
    side = make_side(library, backend, argv[4] if len(argv) > 4 else None)
    actions: dict[str, Callable[[Any, int], Any]] = {"fill": fill, "measure": measure}
    print(json.dumps(actions[action](side, int(events)) or {}))


if __name__ == "__main__":
    main(sys.argv[1:])
