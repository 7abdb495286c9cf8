"""The in-memory backend runs the conformance suite like every other backend."""

from typing import Any

from eventstore_core import InMemoryActiveRecordStrategy, StoredEvent
from eventstore_core.testing import ActiveRecordStrategyTestCase


class TestInMemory(ActiveRecordStrategyTestCase):
    processes_share_store = False

    def create_strategy(self) -> InMemoryActiveRecordStrategy[Any]:
        if not hasattr(self, "_shared"):
            self._shared: InMemoryActiveRecordStrategy[Any] = InMemoryActiveRecordStrategy()
        return self._shared


class TestInMemoryStoredEvent(ActiveRecordStrategyTestCase):
    processes_share_store = False

    def create_strategy(self) -> InMemoryActiveRecordStrategy[Any]:
        if not hasattr(self, "_shared"):
            self._shared: InMemoryActiveRecordStrategy[Any] = InMemoryActiveRecordStrategy(
                sequenced_item_class=StoredEvent
            )
        return self._shared
