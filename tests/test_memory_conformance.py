"""The in-memory backend runs the backend kit like every other backend."""

from decimal import Decimal
from typing import Any

from eventstore_core import (
    EnvelopedItem,
    InMemoryActiveRecordStrategy,
    SequencedItem,
    StoredEvent,
)
from eventstore_core.testing import BackendTestCase

#: record -> the item class of its store
ITEM_CLASSES: dict[str, Any] = {
    "integer": SequencedItem, "stored_event": StoredEvent, "timestamp": SequencedItem,
    "snapshot": StoredEvent, "enveloped": EnvelopedItem,
}


class TestInMemory(BackendTestCase):
    """One store per ``record`` per test: every call within a test reaches the same one."""

    backend_name = "memory"

    def create_strategy(self, record: str = "integer") -> InMemoryActiveRecordStrategy[Any]:
        stores = self.__dict__.setdefault("_stores", {})
        if record not in stores:
            stores[record] = InMemoryActiveRecordStrategy(
                sequenced_item_class=ITEM_CLASSES[record],
                position_type=Decimal if record == "timestamp" else None,
            )
        return stores[record]


class TestInMemoryStoredEvents(TestInMemory):
    record = "stored_event"
