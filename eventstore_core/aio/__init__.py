"""The asyncio API: ``AsyncEventStore`` and its parts, on the same rules as the sync API.

Everything that decides (argument checks, mapping, encryption, the global order's reading
rules, snapshots) is shared with the sync classes; these only await the backend. See
``docs/async.md``.
"""

from .eventstore import AsyncEventStore
from .memory import AsyncInMemoryActiveRecordStrategy
from .snapshots import AsyncRepository, AsyncSnapshotStrategy
from .strategy import AbstractAsyncActiveRecordStrategy
from .subscription import AsyncCatchUpSubscription

__all__ = [
    "AbstractAsyncActiveRecordStrategy",
    "AsyncCatchUpSubscription",
    "AsyncEventStore",
    "AsyncInMemoryActiveRecordStrategy",
    "AsyncRepository",
    "AsyncSnapshotStrategy",
]
