"""Rebuilding a 10,000-event sequence from a snapshot equals replaying every event."""

from typing import Any
from uuid import uuid4

from eventstore_core import (
    EventStore,
    InMemoryActiveRecordStrategy,
    Repository,
    SequencedItemMapper,
    SnapshotStrategy,
)
from eventstore_core.testing.snapshot_tests import Deposited, mutate


def store() -> EventStore:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(
        sequence_id_attr_name="originator_id", position_attr_name="originator_version"
    )
    return EventStore(mapper, InMemoryActiveRecordStrategy())


def test_ten_thousand_events_rebuilt_from_snapshot_equal_a_full_replay() -> None:
    snapshots = SnapshotStrategy(store())
    repository = Repository(store(), mutate, snapshots, snapshot_every=1000)
    account_id = uuid4()
    events = [Deposited(originator_id=account_id, originator_version=v, amount=v % 13)
              for v in range(10_000)]
    for start in range(0, 10_000, 500):
        repository.save(events[start:start + 500])
    repository.save([Deposited(originator_id=account_id, originator_version=10_000, amount=5)])

    latest = snapshots.get_snapshot(account_id)
    assert latest is not None and latest.originator_version == 9_999
    from_snapshot = repository.get(account_id)
    replayed = repository.get(account_id, use_snapshots=False)
    assert vars(from_snapshot) == vars(replayed)
    assert replayed.balance == sum(v % 13 for v in range(10_000)) + 5
    for version in (0, 999, 1000, 4321, 9_999):
        assert vars(repository.get(account_id, lte=version)) == vars(
            repository.get(account_id, lte=version, use_snapshots=False)
        )
