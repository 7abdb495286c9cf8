"""The seeded workload: the same events, in the same order, for every library and every run.

Each event carries its sequence id (UUID), its position (int), a timestamp (eventsourcing's
events always carry one, so ours get one too) and five attributes: ``name`` (20 characters),
``amount`` (int), ``price`` (float), ``tags`` (3 short str) and ``note`` (40 characters),
about 200 bytes of JSON.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

SEED = 20240501
TOPIC = "benchmarks.workload#BenchEvent"
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_LETTERS = string.ascii_letters
_NOTE_CHARS = string.ascii_lowercase + "      "


@dataclass(frozen=True, slots=True)
class EventSpec:
    """The library-neutral description of one event."""

    sequence_id: UUID
    position: int
    timestamp: datetime
    name: str
    amount: int
    price: float
    tags: list[str]
    note: str

    def attributes(self) -> dict[str, object]:
        """The five attributes of the workload (without id, position and timestamp)."""
        return {
            "name": self.name,
            "amount": self.amount,
            "price": self.price,
            "tags": list(self.tags),
            "note": self.note,
        }

    def event_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of an event of either library (both name id and version alike)."""
        return {
            "originator_id": self.sequence_id,
            "originator_version": self.position,
            "timestamp": self.timestamp,
            **self.attributes(),
        }


@dataclass(frozen=True)
class Sizes:
    """How big each workload is; ``FULL`` is the issue's, ``QUICK`` a smoke test."""

    w1_sequences: int = 100
    w1_events_per_sequence: int = 1000
    w1_batch: int = 100
    w2_events: int = 2000
    w2_sequences: int = 20
    w3_events: int = 10_000
    w3_last_calls: int = 2000
    w4_events: int = 10_000
    w5_threads: int = 4
    w5_sequences: int = 10
    w5_seconds: float = 5.0
    w6_events: int = 1_000_000
    w7_writers: tuple[int, ...] = (1, 2, 4, 8, 16)
    w7_seconds: float = 3.0
    pairs: int = 3


FULL = Sizes()
QUICK = Sizes(
    w1_sequences=10,
    w1_events_per_sequence=200,
    w2_events=200,
    w3_events=2000,
    w3_last_calls=200,
    w4_events=2000,
    w5_seconds=1.0,
    w6_events=20_000,
    w7_writers=(1, 4),
    w7_seconds=1.0,
    pairs=2,
)


class Generator:
    """Makes events from one seeded random generator."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)

    def sequence_id(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def sequence_ids(self, count: int) -> list[UUID]:
        return [self.sequence_id() for _ in range(count)]

    def event(self, sequence_id: UUID, position: int) -> EventSpec:
        rng = self.rng
        return EventSpec(
            sequence_id=sequence_id,
            position=position,
            timestamp=_EPOCH + timedelta(seconds=position, microseconds=rng.randrange(10**6)),
            name="".join(rng.choices(_LETTERS, k=20)),
            amount=rng.randrange(-1_000_000, 1_000_000),
            price=round(rng.uniform(0.0, 10_000.0), 4),
            tags=["".join(rng.choices(string.ascii_lowercase, k=rng.randrange(3, 9)))
                  for _ in range(3)],
            note="".join(rng.choices(_NOTE_CHARS, k=40)),
        )

    def events(self, sequence_id: UUID, start: int, count: int) -> list[EventSpec]:
        return [self.event(sequence_id, position) for position in range(start, start + count)]


def w1_batches(sizes: Sizes, seed: int = SEED) -> list[list[EventSpec]]:
    """W1: batches of ``w1_batch`` events, round-robin over the sequences."""
    gen = Generator(seed)
    ids = gen.sequence_ids(sizes.w1_sequences)
    batches = []
    for start in range(0, sizes.w1_events_per_sequence, sizes.w1_batch):
        for sequence_id in ids:
            count = min(sizes.w1_batch, sizes.w1_events_per_sequence - start)
            batches.append(gen.events(sequence_id, start, count))
    return batches


def w2_events(sizes: Sizes, seed: int = SEED + 2) -> list[EventSpec]:
    """W2: one event a call, round-robin over ``w2_sequences`` sequences."""
    gen = Generator(seed)
    ids = gen.sequence_ids(sizes.w2_sequences)
    return [gen.event(ids[i % len(ids)], i // len(ids)) for i in range(sizes.w2_events)]


def one_sequence(count: int, seed: int = SEED + 3) -> list[EventSpec]:
    """W3 and W4: ``count`` events of one sequence."""
    gen = Generator(seed)
    return gen.events(gen.sequence_id(), 0, count)


def one_sequence_batches(
    count: int, batch: int = 1000, seed: int = SEED + 6
) -> Iterator[list[EventSpec]]:
    """W6: the events of one long sequence, made batch by batch (never all at once)."""
    gen = Generator(seed)
    sequence_id = gen.sequence_id()
    for start in range(0, count, batch):
        yield gen.events(sequence_id, start, min(batch, count - start))
