"""W7: N writer processes side by side, each appending 10-event lists to sequences of its own.

For N in 1, 2, 4, 8, 16: each contender gets an empty store, then N processes (forked, each
opening the store itself) append lists of ten events round-robin to ten sequences of their
own, for a fixed time, after all of them are ready. Events/s is every event the processes
appended, over the time from the start signal to the last process's end. Each process makes
its events inside the loop (``make_events``: domain events for the libraries, JSON rows for
the raw driver), so that is in the time of every contender alike. The contenders alternate
round by round, as in the other workloads.

The raw driver stores the same rows in a table keyed by (sequence, position) with no global
order: the ceiling for what any global order costs.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from typing import Any

from . import workload
from .sides import TempDir
from .timing import Metric, Values, alternate, rate
from .workload import Sizes
from .workloads import Result

EVENTS_PER_S = Metric("events_per_s", "events/s", True)
LIST_SIZE = 10
SEQUENCES_PER_WRITER = 10

#: (library, variant) of the contenders on each backend.
CONTENDERS = {
    "sqlite": [("ours", ""), ("eventsourcing", ""), ("raw", "")],
    "postgres": [("ours", ""), ("eventsourcing", ""), ("raw", "executemany"), ("raw", "copy")],
}


def make_side(library: str, variant: str, backend: str, path: str | None) -> Any:
    """A contender; on SQLite, on the file ``path``."""
    from . import eventsourcing_side, ours, raw

    if backend == "sqlite":
        classes: dict[str, Any] = {"ours": ours.SQLiteSide,
                                   "eventsourcing": eventsourcing_side.SQLiteSide,
                                   "raw": raw.SQLiteSide}
        made = classes[library](path)
        return made
    if library == "ours":
        return ours.PostgresSide()
    if library == "eventsourcing":
        return eventsourcing_side.PostgresSide()
    return raw.PostgresSide(variant)


def writer(library: str, variant: str, backend: str, path: str | None, number: int,
           seconds: float, barrier: Any, results: Any) -> None:
    """One writer process: open the store, append until the time is up, report."""
    try:
        side = make_side(library, variant, backend, path)
        side.open_existing()
    except Exception as error:  # reported as a failed writer; the others go on
        barrier.wait(300)
        results.put((number, 0, 1, f"{type(error).__name__}: {error}"[:200], time.monotonic()))
        return
    gen = workload.Generator(workload.SEED + 700 + number)
    sequence_ids = gen.sequence_ids(SEQUENCES_PER_WRITER)
    attributes = [gen.event(sequence_ids[0], 0) for _ in range(100)]
    following = dict.fromkeys(sequence_ids, 0)
    appended = errors = 0
    message = ""

    def append_one(index: int) -> None:
        sequence_id = sequence_ids[index % len(sequence_ids)]
        start = following[sequence_id]
        specs = [
            workload.EventSpec(sequence_id, start + n, *_values(attributes[(index + n) % 100]))
            for n in range(LIST_SIZE)
        ]
        side.append(side.make_events(specs))
        following[sequence_id] = start + LIST_SIZE

    try:
        append_one(0)  # warm: connections open, statements prepared
    except Exception as error:
        message = f"{type(error).__name__}: {error}"[:200]
        errors += 1
    index = 1
    barrier.wait(120)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            append_one(index)
            appended += LIST_SIZE
        except Exception as error:  # counted and shown: a contender that fails is not faster
            errors += 1
            message = message or f"{type(error).__name__}: {error}"[:200]
        index += 1
    results.put((number, appended, errors, message, time.monotonic()))
    side.close()


def _values(spec: workload.EventSpec) -> tuple[Any, ...]:
    return (spec.timestamp, spec.name, spec.amount, spec.price, spec.tags, spec.note)


def measure(library: str, variant: str, backend: str, path: str | None, writers: int,
            seconds: float) -> tuple[Values, list[str]]:
    """One timed repetition: an empty store, ``writers`` processes for ``seconds``."""
    if path is not None:  # an empty file: the sides given a path open what is there
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
    side = make_side(library, variant, backend, path)
    side.reset()
    side.close()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers + 1)
    results = context.Queue()
    processes = [
        context.Process(target=writer, args=(library, variant, backend, path, number, seconds,
                                             barrier, results))
        for number in range(writers)
    ]
    for process in processes:
        process.start()
    barrier.wait(300)
    started = time.monotonic()
    reports = [results.get(timeout=seconds + 300) for _ in processes]
    for process in processes:
        process.join(60)
    ended = max(report[4] for report in reports)
    events = sum(report[1] for report in reports)
    errors = sum(report[2] for report in reports)
    messages = sorted({report[3] for report in reports if report[3]})
    values = {"events_per_s": rate(events, ended - started)}
    if errors:
        values["errors"] = float(errors)
    return values, messages


def w7(backend: str, sizes: Sizes, progress: Callable[[str], None],
       libraries: tuple[str, ...] = ("ours", "eventsourcing", "raw")) -> list[Result]:
    """Every writer count on one backend, the contenders alternating round by round."""
    tmp = TempDir("bench-w7-") if backend == "sqlite" else None
    contenders = [c for c in CONTENDERS[backend] if c[0] in libraries]
    labels = {f"{library}:{variant}" if variant else library: (library, variant)
              for library, variant in contenders}
    found: list[Result] = []
    try:
        for writers in sizes.w7_writers:
            messages: dict[str, list[str]] = {}

            def run(label: str, _round: int, writers: int = writers,
                    messages: dict[str, list[str]] = messages) -> Values:
                library, variant = labels[label]
                path = tmp.file(f"{library}.sqlite3") if tmp else None
                values, errors = measure(library, variant, backend, path, writers,
                                         sizes.w7_seconds)
                if errors:
                    messages.setdefault(label, []).extend(errors)
                return values

            for label in labels:  # warm-up, not timed
                progress(f"{writers} writers: warm-up {label}")
                measure(*labels[label], backend, tmp.file("warm.sqlite3") if tmp else None,
                        writers, min(0.5, sizes.w7_seconds))
            rounds = alternate(list(labels), run, sizes.pairs, progress)
            result = Result("W7", f"{backend}, {writers} writers", [EVENTS_PER_S], rounds)
            for label, errors in messages.items():
                result.extra[label] = {"errors": sorted(set(errors))[:3]}
            found.append(result)
    finally:
        if tmp:
            tmp.cleanup()
    return found

