"""The in-memory backend runs the conformance suite like every other backend."""

from decimal import Decimal
from typing import Any

from eventstore_core import InMemoryActiveRecordStrategy, StoredEvent
from eventstore_core.testing import (
    ActiveRecordStrategyTestCase,
    GlobalOrderTestCase,
    SnapshotTestCase,
    TimestampSequencedTestCase,
)


class SharedInMemory:
    """Tests of one test case share one store, as they would share a database."""

    processes_share_store = False
    item_class: Any = None
    position_type: Any = None

    def create_strategy(self) -> InMemoryActiveRecordStrategy[Any]:
        if not hasattr(self, "_shared"):
            self._shared: InMemoryActiveRecordStrategy[Any] = InMemoryActiveRecordStrategy(
                **({"sequenced_item_class": self.item_class} if self.item_class else {}),
                position_type=self.position_type,
            )
        return self._shared


class TestInMemory(SharedInMemory, ActiveRecordStrategyTestCase):
    pass


class TestInMemoryStoredEvent(SharedInMemory, ActiveRecordStrategyTestCase):
    item_class = StoredEvent


class TestInMemoryTimestamps(SharedInMemory, TimestampSequencedTestCase):
    position_type = Decimal


class TestInMemoryGlobalOrder(SharedInMemory, GlobalOrderTestCase):
    pass


class TestInMemorySnapshots(SharedInMemory, SnapshotTestCase):
    item_class = StoredEvent

    def create_snapshot_strategy(self) -> InMemoryActiveRecordStrategy[Any]:
        return InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent)
