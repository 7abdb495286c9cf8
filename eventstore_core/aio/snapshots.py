"""Snapshots for the async store: ``SnapshotStrategy`` and ``Repository``, awaited.

They share ``SnapshotRules`` and ``RepositoryRules`` with the sync classes (how a snapshot is
made, how an object is rebuilt, which snapshots a save calls for).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..exceptions import ConcurrencyError, TopicResolutionError
from ..snapshots import RepositoryRules, Snapshot, SnapshotRules
from .eventstore import AsyncEventStore

S = TypeVar("S")


class AsyncSnapshotStrategy(SnapshotRules):
    """Takes and gets snapshots in ``snapshot_store`` (an ``AsyncEventStore``)."""

    snapshot_store: AsyncEventStore

    def __init__(self, snapshot_store: AsyncEventStore) -> None:
        super().__init__(snapshot_store)

    async def take_snapshot(
        self, originator_id: Any, state: Any, originator_version: Any
    ) -> Snapshot:
        """Store the state of an object as of a version; taking one twice is harmless."""
        snapshot = self.snapshot_of(originator_id, state, originator_version)
        try:
            await self.snapshot_store.append(snapshot)
        except ConcurrencyError:
            pass  # a snapshot of this version exists already; the state at a version is fixed
        return snapshot

    async def get_snapshot(self, originator_id: Any, lte: Any = None) -> Snapshot | None:
        """The latest snapshot at or below version ``lte`` (any version if None), or None."""
        found = await self.snapshot_store.get_most_recent_event(originator_id, lte=lte)
        return found  # type: ignore[no-any-return]


class AsyncRepository(RepositoryRules[S]):
    """``Repository`` over an ``AsyncEventStore`` and an ``AsyncSnapshotStrategy``."""

    event_store: AsyncEventStore
    snapshot_strategy: AsyncSnapshotStrategy | None

    def __init__(
        self,
        event_store: AsyncEventStore,
        mutate: Callable[[S | None, Any], S],
        snapshot_strategy: AsyncSnapshotStrategy | None = None,
        snapshot_every: int | None = None,
    ) -> None:
        super().__init__(event_store, mutate, snapshot_strategy, snapshot_every)

    async def get(self, originator_id: Any, lte: Any = None, use_snapshots: bool = True) -> S:
        """The object as of version ``lte`` (the latest if None); ``ItemNotFound`` if none."""
        snapshot = None
        if use_snapshots and self.snapshot_strategy is not None:
            snapshot = await self.snapshot_strategy.get_snapshot(originator_id, lte=lte)
        after = None if snapshot is None else getattr(snapshot, self.version_attr)
        events = await self.event_store.get_domain_events(originator_id, gt=after, lte=lte)
        return self.rebuilt(originator_id, lte, snapshot, events)

    async def save(self, events: Sequence[Any]) -> None:
        """Append events (atomically) and take the snapshots that ``snapshot_every`` asks for."""
        await self.event_store.append(list(events))
        for originator_id, version in self.snapshots_due(events).items():
            state = await self.get(originator_id, lte=version)
            try:
                await self.snapshot_strategy.take_snapshot(  # type: ignore[union-attr]
                    originator_id, state, version)
            except TopicResolutionError as error:
                raise self.snapshot_refused(originator_id, version, error) from None
