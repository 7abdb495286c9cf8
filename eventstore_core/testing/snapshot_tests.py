"""Tests for snapshots: rebuilding from one equals replaying every event."""

from __future__ import annotations

import base64
import unittest
from typing import Any
from uuid import uuid4

from ..activerecordstrategy import AbstractActiveRecordStrategy
from ..events import DomainEvent
from ..exceptions import DataIntegrityError
from ..sequenceditemmapper import SequencedItemMapper
from ..snapshots import Snapshot
from ..topics import register_class
from .parts import StoreParts
from .requirements import requires


class Deposited(DomainEvent):
    """Test event: an amount paid into an account."""


@register_class  # the class of a snapshot's state is read back only when registered
class Account:
    """Test aggregate rebuilt from ``Deposited`` events."""

    def __init__(self, originator_id: Any) -> None:
        self.id = originator_id
        self.balance = 0
        self.version = -1
        self.history: list[int] = []


def mutate(state: Account | None, event: Any) -> Account:
    account = state if state is not None else Account(event.originator_id)
    account.balance += event.amount
    account.version = event.originator_version
    account.history = [*account.history[-4:], event.amount]
    return account


class ReversingTestCipher:
    """A stand-in cipher for the suite (real ciphers are plugins): hides the text."""

    def encrypt(self, plaintext: str) -> str:
        return base64.b64encode(plaintext[::-1].encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return base64.b64decode(ciphertext, validate=True).decode()[::-1]
        except ValueError as error:
            raise DataIntegrityError("not ciphertext of this cipher") from error


class SnapshotTests(StoreParts, unittest.TestCase):
    """Snapshots (part of ``BackendTestCase``; run when ``snapshots`` is declared). Events are
    stored by the test's strategy, snapshots by ``create_strategy("snapshot")``: a table (or
    store) of its own, with integer positions."""

    __test__ = False
    #: Events in the long sequence that is rebuilt both ways.
    long_sequence = 2000
    strategy: AbstractActiveRecordStrategy[Any]

    def opened(self, record: str) -> AbstractActiveRecordStrategy[Any]:
        raise NotImplementedError

    @property
    def snapshots_strategy(self) -> AbstractActiveRecordStrategy[Any]:
        return self.opened("snapshot")

    @property
    def store(self) -> Any:
        return self._store(self.strategy)

    @property
    def snapshots(self) -> Any:
        return self.make_snapshot_strategy(self._store(self.snapshots_strategy))

    def _store(self, strategy: AbstractActiveRecordStrategy[Any], **mapper_args: Any) -> Any:
        mapper: SequencedItemMapper[Any] = SequencedItemMapper(
            sequenced_item_class=strategy.sequenced_item_class,
            sequence_id_attr_name="originator_id", position_attr_name="originator_version",
            **mapper_args,
        )
        return self.make_event_store(mapper, strategy)

    def deposits(self, account_id: Any, start: int, count: int) -> list[Deposited]:
        return [Deposited(originator_id=account_id, originator_version=v, amount=v % 7 + 1)
                for v in range(start, start + count)]

    @requires("snapshots")
    def test_take_and_get_snapshots_by_version(self) -> None:
        account_id = uuid4()
        self.assertIsNone(self.snapshots.get_snapshot(account_id))
        for version in (9, 19):
            state = Account(account_id)
            state.version = version
            self.snapshots.take_snapshot(account_id, state, version)
        self.snapshots.take_snapshot(account_id, state, 19)  # twice: harmless
        latest = self.snapshots.get_snapshot(account_id)
        assert latest is not None
        self.assertIsInstance(latest, Snapshot)
        self.assertEqual(latest.originator_version, 19)  # type: ignore[attr-defined]
        earlier = self.snapshots.get_snapshot(account_id, lte=18)
        assert earlier is not None
        self.assertEqual(earlier.restore().version, 9)
        self.assertIsNone(self.snapshots.get_snapshot(account_id, lte=8))

    @requires("snapshots")
    def test_rebuild_from_snapshot_equals_full_replay(self) -> None:
        account_id = uuid4()
        repository = self.make_repository(self.store, mutate, self.snapshots, snapshot_every=100)
        events = self.deposits(account_id, 0, self.long_sequence)
        for start in range(0, len(events), 250):
            repository.save(events[start:start + 250])
        snapshot = self.snapshots.get_snapshot(account_id)
        assert snapshot is not None
        self.assertEqual(snapshot.originator_version, self.long_sequence - 1)  # type: ignore[attr-defined]
        with_snapshot = repository.get(account_id)
        replayed = repository.get(account_id, use_snapshots=False)
        self.assertEqual(vars(with_snapshot), vars(replayed))
        self.assertEqual(replayed.balance, sum(e.amount for e in events))  # type: ignore[attr-defined]
        # as of an older version, between two snapshots (1234 of the default 2000)
        between = self.long_sequence * 5 // 8 // 100 * 100 + 34
        older = repository.get(account_id, lte=between)
        self.assertEqual(vars(older), vars(repository.get(account_id, lte=between,
                                                             use_snapshots=False)))
        self.assertEqual(older.version, between)
        # events after the latest snapshot are applied on top of it
        repository.save(self.deposits(account_id, self.long_sequence, 3))
        self.assertEqual(vars(repository.get(account_id)),
                         vars(repository.get(account_id, use_snapshots=False)))

    @requires("snapshots")
    def test_snapshot_every_n_events(self) -> None:
        account_id = uuid4()
        repository = self.make_repository(self.store, mutate, self.snapshots, snapshot_every=5)
        for version in range(12):
            repository.save(self.deposits(account_id, version, 1))
        versions = [s.originator_version for s in  # type: ignore[attr-defined]
                    self.snapshots.snapshot_store.get_domain_events(account_id)]
        self.assertEqual(versions, [4, 9])

    @requires("snapshots")
    def test_snapshots_can_be_encrypted(self) -> None:
        secret_snapshots = self.make_snapshot_strategy(self._store(
            self.snapshots_strategy, cipher=ReversingTestCipher(), always_encrypt=True))
        account_id = uuid4()
        state = Account(account_id)
        state.balance = 987654321
        secret_snapshots.take_snapshot(account_id, state, 0)
        (stored,) = self.snapshots_strategy.get_items(account_id)
        self.assertNotIn("987654321", stored[3])
        restored = secret_snapshots.get_snapshot(account_id)
        assert restored is not None
        self.assertEqual(restored.restore().balance, 987654321)
