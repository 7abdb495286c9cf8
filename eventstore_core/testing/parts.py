"""How the kit's tests build stores over the strategy under test.

The test definitions call these instead of naming the classes, so that the same tests run
in both forms: ``BackendTestCase`` builds the sync classes, ``AsyncBackendTestCase`` the async
ones (``AsyncEventStore``, ``AsyncSnapshotStrategy``, ...), seen through ``SyncView``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..eventstore import EventStore
from ..sequenceditemmapper import SequencedItemMapper
from ..snapshots import Repository, SnapshotStrategy
from ..subscription import CatchUpSubscription


class StoreParts:
    """The sync parts (``BackendTestCase``); ``AsyncBackendTestCase`` overrides each."""

    def make_event_store(self, mapper: SequencedItemMapper[Any], strategy: Any) -> Any:
        return EventStore(mapper, strategy)

    def make_snapshot_strategy(self, snapshot_store: Any) -> Any:
        return SnapshotStrategy(snapshot_store)

    def make_repository(self, event_store: Any, mutate: Callable[[Any, Any], Any],
                        snapshot_strategy: Any = None, snapshot_every: int | None = None) -> Any:
        return Repository(event_store, mutate, snapshot_strategy, snapshot_every)

    def make_subscription(self, strategy: Any, after: int = 0,
                          timeout: float | None = None, **options: Any) -> Any:
        return CatchUpSubscription(strategy, after=after, timeout=timeout, **options)

    def store_from_config(self, backend: str) -> Any:
        return EventStore.from_config(backend)
