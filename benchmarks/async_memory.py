"""The async store on one task against the sync store, on the in-memory backend (issue 11).

    python -m benchmarks.async_memory [--rounds 9] [--quick]

W2-like: append one event a call (one sequence after another), per-call latency.
W3-like: read one 10,000-event sequence whole (decoded), then its last 10 events descending.
Both stores are built by ``from_config("memory")``; the async one runs every call on one
task of one event loop (the loop started outside the timing). Rounds alternate sync, async,
sync, async ...; each ratio is async time / sync time within a round, and the median of the
ratios is quoted (below 1.3 is the issue's target: the shared layer costs little).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from eventstore_core import DomainEvent, EventStore
from eventstore_core.aio import AsyncEventStore

from .timing import timed


def w2_events(count: int) -> list[DomainEvent]:
    sequences = [uuid4() for _ in range(max(1, count // 100))]
    return [DomainEvent(originator_id=sequences[i // 100], originator_version=i % 100,
                        amount=i, note="deposit") for i in range(count)]


def w2_sync(count: int) -> float:
    """Median microseconds per append."""
    store = EventStore.from_config("memory")
    events = w2_events(count)
    clock = time.perf_counter_ns
    latencies = []

    def run() -> None:
        for event in events:
            start = clock()
            store.append(event)
            latencies.append(clock() - start)

    timed(run)
    return statistics.median(latencies) / 1000


def w2_async(count: int) -> float:
    async def main() -> float:
        store = AsyncEventStore.from_config("memory")
        events = w2_events(count)
        clock = time.perf_counter_ns
        latencies = []
        import gc

        gc.collect()
        for event in events:
            start = clock()
            await store.append(event)
            latencies.append(clock() - start)
        return statistics.median(latencies) / 1000

    return asyncio.run(main())


def w3_sync(events: int, calls: int) -> tuple[float, float]:
    """(seconds to read the sequence whole, microseconds per last-10 read)."""
    store = EventStore.from_config("memory")
    sequence_id = uuid4()
    for start in range(0, events, 100):
        store.append([DomainEvent(originator_id=sequence_id, originator_version=v, amount=v)
                      for v in range(start, min(start + 100, events))])
    whole, got = timed(lambda: store.get_domain_events(sequence_id))
    assert len(got) == events
    del got

    def last_ten() -> None:  # the results dropped as they come, as in the async loop
        for _ in range(calls):
            store.get_domain_events(sequence_id, limit=10, is_ascending=False)

    last, _ = timed(last_ten)
    return whole, last / calls * 1e6


def w3_async(events: int, calls: int) -> tuple[float, float]:
    async def main() -> tuple[float, float]:
        import gc

        store = AsyncEventStore.from_config("memory")
        sequence_id = uuid4()
        for start in range(0, events, 100):
            await store.append([
                DomainEvent(originator_id=sequence_id, originator_version=v, amount=v)
                for v in range(start, min(start + 100, events))])
        gc.collect()
        begin = time.perf_counter()
        got = await store.get_domain_events(sequence_id)
        whole = time.perf_counter() - begin
        assert len(got) == events
        del got
        gc.collect()
        begin = time.perf_counter()
        for _ in range(calls):
            await store.get_domain_events(sequence_id, limit=10, is_ascending=False)
        return whole, (time.perf_counter() - begin) / calls * 1e6

    return asyncio.run(main())


def alternate(rounds: int, sync: Callable[[], Any], asynchronous: Callable[[], Any],
              ) -> list[tuple[Any, Any]]:
    sync(), asynchronous()  # warm up both
    pairs = []
    for _ in range(rounds):
        pairs.append((sync(), asynchronous()))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="smaller loads, 3 rounds")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    appends, events, calls = (1000, 2000, 200) if args.quick else (10_000, 10_000, 2000)

    rows = []
    w2 = alternate(rounds, lambda: w2_sync(appends), lambda: w2_async(appends))
    rows.append(("W2 append, median latency (us)", [s for s, _ in w2], [a for _, a in w2],
                 [a / s for s, a in w2]))
    w3 = alternate(rounds, lambda: w3_sync(events, calls), lambda: w3_async(events, calls))
    rows.append((f"W3 read {events:,} events whole (ms)", [s[0] * 1e3 for s, _ in w3],
                 [a[0] * 1e3 for _, a in w3], [a[0] / s[0] for s, a in w3]))
    rows.append(("W3 last 10, descending (us)", [s[1] for s, _ in w3], [a[1] for _, a in w3],
                 [a[1] / s[1] for s, a in w3]))

    print(f"memory backend, {rounds} alternated rounds (sync, async, sync, async, ...)")
    print(f"{'work':<34} {'sync':>9} {'async':>9} {'async/sync (median of ratios)':>31}")
    for name, sync_values, async_values, ratios in rows:
        print(f"{name:<34} {statistics.median(sync_values):>9.2f} "
              f"{statistics.median(async_values):>9.2f} {statistics.median(ratios):>31.3f}")


if __name__ == "__main__":
    main()
