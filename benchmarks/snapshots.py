"""Rebuilding one 10,000-event aggregate: from its latest snapshot against a full replay.

Runs on a SQLite file through the SQLAlchemy backend, alternating the two ways (A B A B) and
quoting the median of the pair-by-pair ratios, as every benchmark here does.

    .venv/bin/python -m benchmarks.snapshots
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventstore_sqlalchemy import (
    SnapshotRecord,
    SQLAlchemyActiveRecordStrategy,
    SQLAlchemySettings,
    StoredEventRecord,
)

from eventstore_core import (
    EventStore,
    Repository,
    SequencedItem,
    SequencedItemMapper,
    SnapshotStrategy,
    StoredEvent,
)
from eventstore_core.testing.snapshot_tests import Deposited, mutate

EVENTS = 10_000
PAIRS = 7


def build(folder: Path) -> tuple[Repository[Any], Any]:
    settings = SQLAlchemySettings(f"sqlite:///{folder}/snapshots.sqlite3")
    events = EventStore(
        SequencedItemMapper(sequenced_item_class=StoredEvent),
        SQLAlchemyActiveRecordStrategy(StoredEvent, StoredEventRecord, settings=settings),
    )
    snapshots = SnapshotStrategy(EventStore(
        SequencedItemMapper(sequence_id_attr_name="originator_id",
                            position_attr_name="originator_version"),
        SQLAlchemyActiveRecordStrategy(SequencedItem, SnapshotRecord, settings=settings),
    ))
    repository = Repository(events, mutate, snapshots, snapshot_every=1000)
    account_id = uuid4()
    batch = [Deposited(originator_id=account_id, originator_version=v, amount=v % 13)
             for v in range(EVENTS)]
    for start in range(0, EVENTS, 100):
        repository.save(batch[start:start + 100])
    repository.save([Deposited(originator_id=account_id, originator_version=EVENTS, amount=1)])
    return repository, account_id


def timed(call: Any) -> float:
    gc.collect()
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        repository, account_id = build(Path(folder))
        with_snapshot = lambda: repository.get(account_id)  # noqa: E731
        replay = lambda: repository.get(account_id, use_snapshots=False)  # noqa: E731
        assert vars(with_snapshot()) == vars(replay())
        pairs = [(timed(with_snapshot), timed(replay)) for _ in range(PAIRS)]
    snap = statistics.median(a for a, _ in pairs) * 1000
    full = statistics.median(b for _, b in pairs) * 1000
    ratio = statistics.median(b / a for a, b in pairs)
    print(f"rebuild of a {EVENTS:,}-event aggregate on a SQLite file ({PAIRS} alternating pairs)")
    print(f"  from the latest snapshot + 1 event: {snap:8.2f} ms")
    print(f"  full replay of {EVENTS + 1:,} events: {full:8.2f} ms")
    print(f"  full replay / snapshot (median of pair ratios): {ratio:.0f}x")


if __name__ == "__main__":
    main()
