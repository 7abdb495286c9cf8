"""Snapshots: the state of an object at a version, so it can be rebuilt without every event.

A snapshot is stored like an event (in a store of its own, usually a snapshot table), at the
position of the version it covers. An object is rebuilt from its latest snapshot at or below
the wanted version plus the events after it, which equals replaying every event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from .eventkinds import builder_of, reader_of
from .events import DomainEvent
from .eventstore import BaseEventStore, EventStore
from .exceptions import (
    ConcurrencyError,
    DataIntegrityError,
    InvalidEventError,
    ItemNotFound,
    TopicResolutionError,
)
from .topics import resolve_topic, writable_topic

#: The topic of a snapshot whose state is a plain dict.
DICT_TOPIC = "builtins#dict"

S = TypeVar("S")


class Snapshot(DomainEvent):
    """State of an object (``state``, of class ``topic``) as of ``originator_version``."""

    def restore(self) -> Any:
        """The object this snapshot was taken of, rebuilt without calling ``__init__``.

        Its class must be an event class or registered (``register_class``), like the
        class of any event read back; else ``TopicResolutionError``, before it is built.
        """
        topic = self.topic  # type: ignore[attr-defined]
        state = self.state  # type: ignore[attr-defined]
        if topic == DICT_TOPIC:
            return state
        cls = resolve_topic(topic)
        if not isinstance(state, dict):
            raise DataIntegrityError(
                f"snapshot of {topic!r} has a {type(state).__name__} as its state, not a dict"
            )
        try:
            build = builder_of(cls)
        except TypeError as error:
            raise TopicResolutionError(f"snapshot of {topic!r}: {error}") from None
        return build(dict(state))  # (by its kind: a dataclass, a pydantic model, ...)


class SnapshotRules:
    """What the sync and async snapshot strategies share (``AsyncSnapshotStrategy`` is in
    ``eventstore_core.aio``): the attribute names and how a snapshot is made."""

    def __init__(self, snapshot_store: BaseEventStore) -> None:
        self.snapshot_store = snapshot_store
        mapper = snapshot_store.sequenced_item_mapper
        self.id_attr = mapper.sequence_id_attr_name
        self.version_attr = mapper.position_attr_name

    def snapshot_of(self, originator_id: Any, state: Any, originator_version: Any) -> Snapshot:
        """The snapshot of ``state`` as of a version (not stored yet)."""
        if type(state) is dict:
            topic, attributes = DICT_TOPIC, state
        else:
            topic = writable_topic(type(state))
            try:
                attributes = reader_of(type(state))(state)  # by its kind (see eventkinds)
            except TypeError as error:
                raise InvalidEventError(f"a snapshot's state: {error}") from None
        return Snapshot(**{
            self.id_attr: originator_id,
            self.version_attr: originator_version,
            "topic": topic,
            "state": attributes,
        })


class SnapshotStrategy(SnapshotRules):
    """Takes and gets snapshots in ``snapshot_store`` (an event store on a snapshot table).

    The snapshot store's mapper must use the same attribute names as the events' store
    (``originator_id`` / ``originator_version`` by default).
    """

    snapshot_store: EventStore

    def __init__(self, snapshot_store: EventStore) -> None:
        super().__init__(snapshot_store)

    def take_snapshot(self, originator_id: Any, state: Any, originator_version: Any) -> Snapshot:
        """Store the state of an object as of a version; taking one twice is harmless."""
        snapshot = self.snapshot_of(originator_id, state, originator_version)
        try:
            self.snapshot_store.append(snapshot)
        except ConcurrencyError:
            pass  # a snapshot of this version exists already; the state at a version is fixed
        return snapshot

    def get_snapshot(self, originator_id: Any, lte: Any = None) -> Snapshot | None:
        """The latest snapshot at or below version ``lte`` (any version if None), or None."""
        found = self.snapshot_store.get_most_recent_event(originator_id, lte=lte)
        return found  # type: ignore[no-any-return]


class RepositoryRules(Generic[S]):
    """What the sync and async repositories share: their arguments, how an object is
    rebuilt from a snapshot and events, and which snapshots a save calls for."""

    def __init__(
        self,
        event_store: Any,
        mutate: Callable[[S | None, Any], S],
        snapshot_strategy: Any = None,
        snapshot_every: int | None = None,
    ) -> None:
        if snapshot_every is not None and (snapshot_strategy is None or snapshot_every < 1):
            raise ValueError("snapshot_every needs a snapshot_strategy and must be at least 1")
        self.event_store = event_store
        self.mutate = mutate
        self.snapshot_strategy = snapshot_strategy
        self.snapshot_every = snapshot_every
        self.version_attr = event_store.sequenced_item_mapper.position_attr_name

    def rebuilt(self, originator_id: Any, lte: Any, snapshot: Snapshot | None,
                events: Sequence[Any]) -> S:
        """The object from its snapshot (or None) and the events after it."""
        state: S | None = None
        if snapshot is not None:
            state = snapshot.restore()
        if state is None and not events:
            raise ItemNotFound(f"no events for {originator_id}" +
                               ("" if lte is None else f" at or below version {lte}"))
        for event in events:
            state = self.mutate(state, event)
        return state  # type: ignore[return-value]

    def snapshots_due(self, events: Sequence[Any]) -> dict[Any, Any]:
        """Sequence id -> the version to snapshot, for the events a save appended."""
        due: dict[Any, Any] = {}
        if not self.snapshot_every or self.snapshot_strategy is None:
            return due
        for event in events:
            version = getattr(event, self.version_attr)
            if isinstance(version, int) and (version + 1) % self.snapshot_every == 0:
                due[getattr(event, self.snapshot_strategy.id_attr)] = version
        return due

    @staticmethod
    def snapshot_refused(
        originator_id: Any, version: Any, error: TopicResolutionError
    ) -> TopicResolutionError:
        """What ``save`` raises when the events went in but their snapshot's state was
        refused (its class has no topic that reads back)."""
        return TopicResolutionError(
            f"the events were appended, but no snapshot of {originator_id} at version "
            f"{version} was taken: {error}"
        )


class Repository(RepositoryRules[S]):
    """Gets objects rebuilt from their events, starting from a snapshot where there is one.

    ``mutate(state, event)`` returns the state after one event (``state`` is None before the
    first). With ``snapshot_every=N`` and a snapshot strategy, ``save`` takes a snapshot each
    time a sequence's version reaches a multiple of N.
    """

    event_store: EventStore
    snapshot_strategy: SnapshotStrategy | None

    def __init__(
        self,
        event_store: EventStore,
        mutate: Callable[[S | None, Any], S],
        snapshot_strategy: SnapshotStrategy | None = None,
        snapshot_every: int | None = None,
    ) -> None:
        super().__init__(event_store, mutate, snapshot_strategy, snapshot_every)

    def get(self, originator_id: Any, lte: Any = None, use_snapshots: bool = True) -> S:
        """The object as of version ``lte`` (the latest if None); ``ItemNotFound`` if none."""
        snapshot = None
        if use_snapshots and self.snapshot_strategy is not None:
            snapshot = self.snapshot_strategy.get_snapshot(originator_id, lte=lte)
        after = None if snapshot is None else getattr(snapshot, self.version_attr)
        events = self.event_store.get_domain_events(originator_id, gt=after, lte=lte)
        return self.rebuilt(originator_id, lte, snapshot, events)

    def save(self, events: Sequence[Any]) -> None:
        """Append events (atomically) and take the snapshots that ``snapshot_every`` asks for."""
        self.event_store.append(list(events))
        for originator_id, version in self.snapshots_due(events).items():
            state = self.get(originator_id, lte=version)
            try:
                self.snapshot_strategy.take_snapshot(  # type: ignore[union-attr]
                    originator_id, state, version)
            except TopicResolutionError as error:
                raise self.snapshot_refused(originator_id, version, error) from None
