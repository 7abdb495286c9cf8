"""Upcasting: events stored at older versions of their class are read as the current one."""

from __future__ import annotations

import sys
import types
from typing import Any
from uuid import uuid4

import pytest
from test_same_answer_everywhere import BACKENDS

from eventstore_core import (
    DataIntegrityError,
    DomainEvent,
    EventStore,
    InMemoryActiveRecordStrategy,
    Repository,
    SequencedItemMapper,
    SnapshotStrategy,
    StoredEvent,
    register_class,
    register_topic,
    resolve_topic,
)
from eventstore_core.testing.snapshot_tests import ReversingTestCipher
from eventstore_core.upcasting import register_upcaster, upcaster

MODULE = "upcast_bank_events"


def _define(name: str, version: int | None, **namespace: Any) -> type:
    """(Re)define class ``name`` of the test module, as a new release of the app would."""
    module = sys.modules.setdefault(MODULE, types.ModuleType(MODULE))
    if version is not None:
        namespace["__version__"] = version
    cls = type(name, (DomainEvent,), {"__module__": MODULE, **namespace})
    setattr(module, name, cls)
    resolve_topic.cache_clear()  # a new release: a new process, with the new class
    return cls


def _store(strategy: Any, **options: Any) -> EventStore:
    return EventStore(SequencedItemMapper(sequenced_item_class=StoredEvent, **options), strategy)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_v1_and_v2_events_read_back_as_v3(encrypted: bool) -> None:
    options = {"cipher": ReversingTestCipher(), "always_encrypt": True} if encrypted else {}
    strategy = InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent)
    account = uuid4()

    v1 = _define("Deposited", None)  # amount in cents
    _store(strategy, **options).append(v1(originator_id=account, originator_version=0, cents=150))
    v2 = _define("Deposited", 2)  # amount as a str of euros
    _store(strategy, **options).append(
        v2(originator_id=account, originator_version=1, euros="2.50")
    )
    v3 = _define("Deposited", 3)  # euros and a currency

    def cents_to_euros(state: dict[str, Any]) -> dict[str, Any]:
        state["euros"] = f"{state.pop('cents') / 100:.2f}"
        return state

    register_upcaster(v3, 1, cents_to_euros)

    @upcaster(v3, from_version=2)
    def add_currency(state: dict[str, Any]) -> dict[str, Any]:
        return {**state, "currency": "EUR"}

    store = _store(strategy, **options)
    events = store.get_domain_events(account)
    assert [type(event) for event in events] == [v3, v3]
    assert [vars(event) for event in events] == [
        {"originator_id": account, "originator_version": 0, "euros": "1.50", "currency": "EUR"},
        {"originator_id": account, "originator_version": 1, "euros": "2.50", "currency": "EUR"},
    ]
    store.append(v3(originator_id=account, originator_version=2, euros="1", currency="CHF"))
    assert vars(store.get_domain_events(account)[2])["currency"] == "CHF"
    stored = strategy.get_items(account)
    assert all("__version__" not in vars(event) for event in store.get_domain_events(account))
    if not encrypted:
        assert '"__version__"' not in stored[0].state  # v1 items were never rewritten
        assert '"__version__":2' in stored[1].state and '"__version__":3' in stored[2].state


def test_a_renamed_and_changed_class_reads_its_old_topic() -> None:
    strategy = InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent)
    old = _define("Paid", None)
    sequence = uuid4()
    _store(strategy).append(old(originator_id=sequence, originator_version=0, amount=5))
    new = _define("PaymentMade", 2)
    register_topic(f"{MODULE}#Paid", new)
    register_upcaster(new, 1, lambda state: {"amount_cents": state.pop("amount") * 100, **state})
    (event,) = _store(strategy).get_domain_events(sequence)
    assert type(event) is new and event.amount_cents == 500


def test_a_missing_or_newer_version_is_a_clear_error() -> None:
    strategy = InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent)
    sequence = uuid4()
    v1 = _define("Closed", None)
    _store(strategy).append(v1(originator_id=sequence, originator_version=0))
    v4 = _define("Closed", 4)
    register_upcaster(v4, 1, lambda state: state)
    with pytest.raises(DataIntegrityError, match="from version 2 to 3") as caught:
        _store(strategy).get_domain_events(sequence)
    assert str(sequence) in str(caught.value) and "position 0" in str(caught.value)
    _store(strategy).append(v4(originator_id=sequence, originator_version=1))
    _define("Closed", 2)
    with pytest.raises(DataIntegrityError, match="version 4"):
        _store(strategy).get_domain_events(sequence, gte=1)


def test_upcasting_with_snapshots() -> None:
    events_strategy = InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent)
    snapshots = SnapshotStrategy(_store(InMemoryActiveRecordStrategy(
        sequenced_item_class=StoredEvent)))

    class Tally:
        def __init__(self) -> None:
            self.total = 0

    register_class(Tally, topic=f"{MODULE}#Tally")

    def mutate(state: Tally | None, event: Any) -> Tally:
        tally = state or Tally()
        tally.total += event.points
        return tally

    def mutate_v1(state: Tally | None, event: Any) -> Tally:  # the release of v1
        tally = state or Tally()
        tally.total += event.score
        return tally

    v1 = _define("Scored", None)
    sequence = uuid4()
    repository = Repository(_store(events_strategy), mutate_v1, snapshots, snapshot_every=2)
    repository.save([v1(originator_id=sequence, originator_version=v, score=v) for v in range(4)])
    v2 = _define("Scored", 2)
    register_upcaster(v2, 1, lambda state: {"points": state.pop("score"), **state})
    repository = Repository(_store(events_strategy), mutate, snapshots, snapshot_every=2)
    repository.save([v2(originator_id=sequence, originator_version=4, points=10)])
    latest = snapshots.get_snapshot(sequence)
    assert latest is not None and latest.originator_version == 3
    assert repository.get(sequence).total == 0 + 1 + 2 + 3 + 10
    assert repository.get(sequence, use_snapshots=False).total == 16  # v1 events upcast


def test_bad_versions_and_upcasters_are_refused() -> None:
    with pytest.raises(TypeError, match="__version__"):
        SequencedItemMapper().to_sequenced_item(
            _define("Odd", 0)(sequence_id=uuid4(), position=0)
        )
    with pytest.raises(TypeError):
        register_upcaster(DomainEvent, 0, lambda state: state)
    with pytest.raises(TypeError):
        register_upcaster(DomainEvent, 1, "not callable")  # type: ignore[arg-type]


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "aes"])
@pytest.mark.parametrize("backend", [*BACKENDS, "memory-enveloped"])
def test_v1_and_v2_events_read_back_as_v3_on_every_backend(backend: str, encrypted: bool) -> None:
    """Through each backend's own items (``SequencedItem``; ``EnvelopedItem`` with metadata
    on memory), with upcasters registered by topic."""
    from eventstore_aes import AESCipher
    from test_same_answer_everywhere import _open

    from eventstore_core import Envelope, EnvelopedItem

    if backend == "memory-enveloped":
        strategy: Any = InMemoryActiveRecordStrategy(sequenced_item_class=EnvelopedItem)
    else:
        strategy = _open(backend).active_record_strategy
    options: dict[str, Any] = (
        {"cipher": AESCipher(aes_key=b"u" * 32), "always_encrypt": True} if encrypted else {})

    def store() -> EventStore:
        return EventStore(SequencedItemMapper(strategy.sequenced_item_class, **options),
                          strategy)

    try:
        sequence = uuid4()
        name = f"Moved{backend.replace('-', '')}{'Aes' if encrypted else ''}"
        v1 = _define(name, None)
        first = v1(sequence_id=sequence, position=0, metres=1500)
        store().append(Envelope(first, {"user": "u1"}) if store().sequenced_item_mapper.enveloped
                       else first)
        v2 = _define(name, 2)
        store().append(v2(sequence_id=sequence, position=1, km=2.5))
        v3 = _define(name, 3)
        register_upcaster(f"{MODULE}#{name}", 1,
                          lambda state: {"km": state.pop("metres") / 1000, **state})
        register_upcaster(f"{MODULE}#{name}", 2, lambda state: {**state, "mode": "walk"})
        events = store().get_domain_events(sequence)
        assert [type(event) for event in events] == [v3, v3]
        assert [(e.km, e.mode) for e in events] == [(1.5, "walk"), (2.5, "walk")]
        if backend == "memory-enveloped":
            assert store().get_envelopes(sequence)[0].metadata == {"user": "u1"}
        stored = strategy.get_items(sequence)
        assert len(stored) == 2
        assert ('"metres":1500' in stored[0][3]) is not encrypted  # stored as v1, unchanged
    finally:
        strategy.close()
