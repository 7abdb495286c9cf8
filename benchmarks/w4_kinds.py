"""W4 per event kind: the mapper's encode and decode of the workload's event as a DomainEvent,
a frozen dataclass, a frozen pydantic v2 model and a frozen msgspec Struct, plain and AES-GCM.

    python -m benchmarks.w4_kinds [rounds]

Needs the ``pydantic`` and ``msgspec`` extras. One process; in each round every kind is
measured once, in an order that rotates from round to round. A measurement is the best of 5
passes over 1000 events of per-thread CPU time (``time.thread_time``: on a shared machine
wall time mostly measures the other jobs). Prints, per kind, the median µs per event and the
median of the round-by-round ratios to DomainEvent.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import pydantic

from eventstore_core import register_class

from . import ours, workload

AES_KEY = bytes(range(32))
EVENTS = 1000


@register_class(topic="benchmarks.w4_kinds#BenchDataclass")
@dataclasses.dataclass(frozen=True)
class BenchDataclass:
    originator_id: UUID
    originator_version: int
    timestamp: datetime
    name: str
    amount: int
    price: float
    tags: list[str]
    note: str


@register_class(topic="benchmarks.w4_kinds#BenchModel")
class BenchModel(pydantic.BaseModel, frozen=True):
    originator_id: UUID
    originator_version: int
    timestamp: datetime
    name: str
    amount: int
    price: float
    tags: list[str]
    note: str


@register_class(topic="benchmarks.w4_kinds#BenchStruct")
class BenchStruct(msgspec.Struct, frozen=True):
    originator_id: UUID
    originator_version: int
    timestamp: datetime
    name: str
    amount: int
    price: float
    tags: list[str]
    note: str


KINDS: dict[str, Callable[..., Any]] = {
    "DomainEvent": ours.BenchEvent,
    "dataclass": BenchDataclass,
    "pydantic": BenchModel,
    "msgspec": BenchStruct,
}


def _setups() -> dict[tuple[str, str], tuple[Any, Any, list[Any], list[Any]]]:
    specs = workload.one_sequence(EVENTS)
    setups = {}
    for cipher in ("plain", "aes"):
        mapper = ours.mapper(AES_KEY if cipher == "aes" else None)
        for kind, cls in KINDS.items():
            events = [cls(**spec.event_kwargs()) for spec in specs]
            items = [mapper.to_sequenced_item(event) for event in events]
            back = [mapper.from_sequenced_item(item) for item in items]
            if back != events or {type(event) for event in back} != {cls}:
                raise AssertionError(f"{kind}: the mapper's round trip changed the events")
            setups[kind, cipher] = (mapper.to_sequenced_item, mapper.from_sequenced_item,
                                    events, items)
    return setups


def _measure(setup: tuple[Any, Any, list[Any], list[Any]]) -> tuple[float, float]:
    encode, decode, events, items = setup
    best_encode = best_decode = float("inf")
    for _ in range(5):
        start = time.thread_time()
        for event in events:
            encode(event)
        best_encode = min(best_encode, time.thread_time() - start)
        start = time.thread_time()
        for item in items:
            decode(item)
        best_decode = min(best_decode, time.thread_time() - start)
    return best_encode / len(events) * 1e6, best_decode / len(items) * 1e6


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    setups = _setups()
    kinds = list(KINDS)
    for key in setups:  # warm up
        _measure(setups[key])
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {key: [] for key in setups}
    for index in range(rounds):
        order = kinds[index % len(kinds):] + kinds[:index % len(kinds)]
        for cipher in ("plain", "aes"):
            for kind in order:
                runs[kind, cipher].append(_measure(setups[kind, cipher]))
    print(f"W4 per kind, {EVENTS} events, median of {rounds} rounds "
          f"(ratio: median of the round-by-round ratios to DomainEvent)")
    for cipher in ("plain", "aes"):
        base = runs["DomainEvent", cipher]
        for kind in kinds:
            run = runs[kind, cipher]
            cells = []
            for step, label in enumerate(("encode", "decode")):
                ratios = [mine[step] / theirs[step] for mine, theirs in zip(run, base, strict=True)]
                cells.append(f"{label} {statistics.median(r[step] for r in run):6.2f} µs "
                             f"x{statistics.median(ratios):.2f}")
            print(f"{cipher:5s} {kind:12s} " + "   ".join(cells))


if __name__ == "__main__":
    main()
