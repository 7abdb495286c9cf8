"""The kit in its async form: the in-memory async strategy passes every test of the sync kit
(the same definitions) and the async-only ones, and the kit catches an async backend whose
appends a cancellation can cut in two."""

from __future__ import annotations

import asyncio
import inspect
from decimal import Decimal
from typing import Any

from test_kit import failed, run
from test_memory_conformance import ITEM_CLASSES

from eventstore_core import ConcurrencyError, InMemoryActiveRecordStrategy
from eventstore_core.aio import AsyncInMemoryActiveRecordStrategy
from eventstore_core.testing import AsyncBackendTestCase, BackendTestCase


class TestAsyncInMemory(AsyncBackendTestCase):
    backend_name = "memory"
    config_url = None  # memory:// makes a new store, which create_strategy cannot reach

    def create_async_strategy(self, record: str = "integer") -> Any:
        stores = self.__dict__.setdefault("_stores", {})
        if record not in stores:
            stores[record] = AsyncInMemoryActiveRecordStrategy(
                sequenced_item_class=ITEM_CLASSES[record],
                position_type=Decimal if record == "timestamp" else None,
            )
        return stores[record]


class TestAsyncInMemoryStoredEvents(TestAsyncInMemory):
    record = "stored_event"


def test_the_async_kit_runs_the_same_test_definitions_as_the_sync_kit() -> None:
    def tests(case: type) -> set[str]:
        return {n for n, _ in inspect.getmembers(case, inspect.isfunction)
                if n.startswith("test_")}

    sync, both = tests(BackendTestCase), tests(AsyncBackendTestCase)
    assert sync < both, "every sync test, plus the async-only ones"
    for name in sync:  # not copies: the very functions
        assert getattr(AsyncBackendTestCase, name) is getattr(BackendTestCase, name), name


class PerItemStrategy(AsyncInMemoryActiveRecordStrategy[Any]):
    """Checks for conflicts first, then writes item by item, letting the loop in between:
    a cancellation in the middle leaves part of the list."""

    async def _append(self, items: list[Any]) -> None:
        taken = [i for i in items if self.store._get_items(i[0], None, i[1], None, i[1], 1, True)]
        if taken:
            raise ConcurrencyError(f"{len(taken)} positions are taken")
        for item in items:
            self.store._append([item])
            await asyncio.sleep(0)


class TestCutInTwo(AsyncBackendTestCase):
    __test__ = False  # run by the test below, expected to fail

    def create_async_strategy(self, record: str = "integer") -> Any:
        return self.__dict__.setdefault("_store", PerItemStrategy(
            store=InMemoryActiveRecordStrategy()))


def test_an_append_that_a_cancellation_can_cut_is_caught() -> None:
    result = run(TestCutInTwo, "test_a_cancelled_append_leaves_all_or_nothing",
                 "test_a_cancelled_append_across_sequences_leaves_all_or_nothing",
                 "test_append_one_and_get_it_back")
    assert failed(result) == {"test_a_cancelled_append_leaves_all_or_nothing",
                              "test_a_cancelled_append_across_sequences_leaves_all_or_nothing"}
    traces = [trace for _, trace in result.failures]
    assert "cancelled after 1 turns: 1 of 10 stored" in traces[0]
