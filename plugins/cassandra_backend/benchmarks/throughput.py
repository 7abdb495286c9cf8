"""Events per second on the Cassandra backend: appending 100 events a call, reading 10,000.

    .venv/bin/python plugins/cassandra_backend/benchmarks/throughput.py [--rounds 5]

Appends go to one sequence in calls of 100 (each call one conditional batch), straight to the
strategy (items made beforehand) and through ``EventStore`` (mapping and JSON included).
Reads get a 10,000-event sequence whole with ``get_items`` and ``get_domain_events``. One
client thread. Prints the median of the rounds. Needs a running server
(``scripts/servers/cassandra.sh start``); writes into keyspace ``eventstore_bench``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from uuid import UUID, uuid4

from eventstore_core import DomainEvent, EventStore, SequencedItem, SequencedItemMapper

from eventstore_cassandra import CassandraActiveRecordStrategy, CassandraSettings

TOPIC = "eventstore_core.events#DomainEvent"
LONG = 10_000


def per_second(count: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def item_batches(sequence_id: UUID, calls: int, size: int = 100) -> list[list[SequencedItem]]:
    return [[SequencedItem(sequence_id, p, TOPIC, f'{{"n":{p},"name":"event {p}"}}')
             for p in range(call * size, call * size + size)] for call in range(calls)]


def event_batches(originator_id: UUID, calls: int, size: int = 100) -> list[list[DomainEvent]]:
    return [[DomainEvent(originator_id=originator_id, originator_version=v, n=v,
                         name=f"event {v}") for v in range(call * size, call * size + size)]
            for call in range(calls)]


def append_all(append: Callable[[Any], None], batches: list[Any]) -> None:
    for batch in batches:
        append(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100, help="append calls of 100 per round")
    args = parser.parse_args()
    strategy: CassandraActiveRecordStrategy[SequencedItem] = CassandraActiveRecordStrategy(
        settings=CassandraSettings(keyspace="eventstore_bench")
    )
    mapper: SequencedItemMapper[SequencedItem] = SequencedItemMapper(
        sequence_id_attr_name="originator_id", position_attr_name="originator_version"
    )
    store = EventStore(mapper, strategy)
    long_id = uuid4()
    append_all(strategy.append, item_batches(long_id, LONG // 500, size=500))
    results: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        items = item_batches(uuid4(), args.calls)
        events = event_batches(uuid4(), args.calls)
        measured = {
            "append 100 items/call (strategy)":
                per_second(100 * args.calls, partial(append_all, strategy.append, items)),
            "append 100 events/call (EventStore)":
                per_second(100 * args.calls, partial(append_all, store.append, events)),
            "read 10,000 items (get_items)":
                per_second(LONG, partial(strategy.get_items, long_id)),
            "read 10,000 events (get_domain_events)":
                per_second(LONG, partial(store.get_domain_events, long_id)),
        }
        for name, value in measured.items():
            results.setdefault(name, []).append(value)
    strategy.close()
    for name, values in results.items():
        print(f"{name:40} {statistics.median(values):>9,.0f} /s  "
              f"(min {min(values):,.0f}, max {max(values):,.0f}, {len(values)} rounds)")


if __name__ == "__main__":
    main()
