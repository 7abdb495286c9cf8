"""W1-W5: what is timed for each contender (W4 and W6 have their own modules)."""

from __future__ import annotations

import dataclasses
import random
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from . import workload
from .sides import Side
from .timing import Metric, Values, alternate, rate, timed
from .workload import EventSpec, Sizes

EVENTS_PER_S = Metric("events_per_s", "events/s", True)
LATENCY_US = Metric("median_latency_us", "µs", False)
READ_PER_S = Metric("read_events_per_s", "events/s", True)
LAST10_US = Metric("last10_us", "µs", False)
APPENDS_PER_S = Metric("appends_per_s", "appends/s", True)
CONFLICTS = Metric("conflicts", "count", False, compared=False)


@dataclass
class Result:
    """The rounds of one workload on one backend, for every contender."""

    workload: str
    backend: str
    metrics: list[Metric]
    rounds: dict[str, list[Values]]
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""


Progress = Callable[[str], None]


def _run(
    name: str,
    backend: str,
    sides: Sequence[Side],
    metrics: list[Metric],
    rep: Callable[[Side, bool], Values],
    rounds: int,
    progress: Progress,
) -> Result:
    by_label = {side.label: side for side in sides}
    for side in sides:  # warm up every contender before anything is timed
        progress(f"warm-up {side.label}")
        rep(side, True)
    results = alternate(list(by_label), lambda label, _i: rep(by_label[label], False), rounds,
                        progress)
    return Result(name, backend, metrics, results)


# -- W1 ---------------------------------------------------------------------------------------
def w1(backend: str, sides: Sequence[Side], sizes: Sizes, progress: Progress) -> Result:
    """Append 100 events a call, round-robin over the sequences, one transaction a call."""
    batches = workload.w1_batches(sizes)
    total = sum(len(b) for b in batches)

    def rep(side: Side, warm_up: bool) -> Values:
        chosen = batches[: max(1, len(batches) // 10)] if warm_up else batches
        side.reset()
        events = [side.make_events(batch) for batch in chosen]
        append = side.append
        seconds, _ = timed(lambda: [append(batch) for batch in events])
        return {"events_per_s": rate(total if not warm_up else sum(map(len, chosen)), seconds)}

    return _run("W1", backend, sides, [EVENTS_PER_S], rep, sizes.pairs, progress)


# -- W2 ---------------------------------------------------------------------------------------
def w2(backend: str, sides: Sequence[Side], sizes: Sizes, progress: Progress) -> Result:
    """Append one event a call, one transaction each; throughput and median latency."""
    specs = workload.w2_events(sizes)

    def rep(side: Side, warm_up: bool) -> Values:
        chosen = specs[: max(1, len(specs) // 10)] if warm_up else specs
        side.reset()
        events = [[event] for event in side.make_events(chosen)]
        append = side.append
        clock = time.perf_counter_ns

        def run() -> list[int]:
            latencies = []
            for one in events:
                start = clock()
                append(one)
                latencies.append(clock() - start)
            return latencies

        seconds, latencies = timed(run)
        return {
            "events_per_s": rate(len(events), seconds),
            "median_latency_us": statistics.median(latencies) / 1000,
        }

    return _run("W2", backend, sides, [EVENTS_PER_S, LATENCY_US], rep, sizes.pairs, progress)


# -- W3 ---------------------------------------------------------------------------------------
def w3(backend: str, sides: Sequence[Side], sizes: Sizes, progress: Progress) -> Result:
    """Read one 10,000-event sequence whole (decoded); then its last 10 events, descending."""
    specs = workload.one_sequence(sizes.w3_events)
    sequence_id = specs[0].sequence_id
    for side in sides:
        progress(f"storing {len(specs):,} events for {side.label}")
        side.reset()
        for start in range(0, len(specs), 100):
            side.append(side.make_events(specs[start : start + 100]))

    def rep(side: Side, warm_up: bool) -> Values:
        calls = 20 if warm_up else sizes.w3_last_calls
        seconds, events = timed(lambda: side.read_sequence(sequence_id))
        if len(events) != len(specs) or side.position_of(events[-1]) != len(specs) - 1:
            raise AssertionError(f"{side.label} read {len(events)} events, not {len(specs)}")
        del events
        read_last = side.read_last
        last_seconds, _ = timed(lambda: [read_last(sequence_id, 10) for _ in range(calls)])
        return {
            "read_events_per_s": rate(len(specs), seconds),
            "last10_us": last_seconds / calls * 1e6,
        }

    return _run("W3", backend, sides, [READ_PER_S, LAST10_US], rep, sizes.pairs, progress)


# -- W5 ---------------------------------------------------------------------------------------
def w5(backend: str, sides: Sequence[Side], sizes: Sizes, progress: Progress) -> Result:
    """Threads append the next position of the same sequences, retrying on conflicts."""
    gen = workload.Generator(workload.SEED + 5)
    sequence_ids = gen.sequence_ids(sizes.w5_sequences)
    attributes = [gen.event(sequence_ids[0], 0) for _ in range(1000)]
    checks: dict[str, list[bool]] = {side.label: [] for side in sides}
    conflicts: dict[str, list[int]] = {side.label: [] for side in sides}
    errors: dict[str, list[str]] = {side.label: [] for side in sides}

    def rep(side: Side, warm_up: bool) -> Values:
        side.reset()
        seconds = 0.2 if warm_up else sizes.w5_seconds
        outcome = contend(side, sequence_ids, attributes, sizes.w5_threads, seconds)
        ok = not outcome.errors and check_sequences(side, sequence_ids, outcome.appends)
        if not warm_up:
            checks[side.label].append(ok)
            conflicts[side.label].append(outcome.conflicts)
            errors[side.label].extend(outcome.errors[:3])
        if not ok:
            progress(f"CHECK FAILED for {side.label}: {outcome}")
        return {
            "appends_per_s": rate(outcome.appends, outcome.seconds),
            "conflicts": float(outcome.conflicts),
        }

    result = _run("W5", backend, sides, [APPENDS_PER_S, CONFLICTS], rep, sizes.pairs, progress)
    for side in sides:
        result.extra[side.label] = {
            "check_clean_every_time": all(checks[side.label]) and bool(checks[side.label]),
            "conflicts": conflicts[side.label],
            "errors": errors[side.label],
        }
    return result


@dataclass
class Contention:
    appends: int = 0
    conflicts: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def contend(
    side: Side,
    sequence_ids: list[UUID],
    attributes: list[EventSpec],
    threads: int,
    seconds: float,
) -> Contention:
    outcome = Contention()
    lock = threading.Lock()
    start_line = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def worker(number: int) -> None:
        rng = random.Random(number)
        following = dict.fromkeys(sequence_ids, 0)
        appends = conflicts = 0
        start_line.wait()
        try:
            while time.perf_counter() < stop_at[0]:
                sequence_id = sequence_ids[rng.randrange(len(sequence_ids))]
                position = following[sequence_id]
                spec = dataclasses.replace(
                    attributes[(appends + conflicts) % len(attributes)],
                    sequence_id=sequence_id,
                    position=position,
                )
                try:
                    side.append(side.make_events([spec]))
                except side.conflict_errors:
                    conflicts += 1
                    last = side.read_last(sequence_id, 1)
                    following[sequence_id] = side.position_of(last[0]) + 1 if last else 0
                else:
                    appends += 1
                    following[sequence_id] = position + 1
        except Exception as error:  # reported, and the check then fails
            with lock:
                outcome.errors.append(f"{type(error).__name__}: {error}")
        with lock:
            outcome.appends += appends
            outcome.conflicts += conflicts

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    start = time.perf_counter()
    stop_at[0] = start + seconds
    start_line.wait()
    for thread in workers:
        thread.join()
    outcome.seconds = time.perf_counter() - start
    return outcome


def check_sequences(side: Side, sequence_ids: list[UUID], appends: int) -> bool:
    """Every sequence is exactly 0..N-1, and the lengths add up to the successful appends."""
    total = 0
    for sequence_id in sequence_ids:
        positions = side.positions(sequence_id)
        if positions != list(range(len(positions))):
            return False
        total += len(positions)
    return total == appends
