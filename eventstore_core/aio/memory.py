"""The in-memory backend's async strategy: the sync store's own methods, called directly.

Nothing here waits on I/O, so each method runs the ``InMemoryActiveRecordStrategy``'s
implementation in one step on the event loop (its lock is held for microseconds). An append
has no ``await`` inside it: a task cancelled before it starts wrote nothing, and one that
started wrote its whole list. ``wait_for_items`` is woken by any writer, sync or async, of
the same store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from ..activerecordstrategy import OrderedItem, T
from ..exceptions import ConfigurationError
from ..memory import InMemoryActiveRecordStrategy
from ..sequenceditem import SequencedItem
from .strategy import AbstractAsyncActiveRecordStrategy


class AsyncInMemoryActiveRecordStrategy(AbstractAsyncActiveRecordStrategy[T]):
    """An async view of an ``InMemoryActiveRecordStrategy``: a new one (made with the
    arguments given), or ``store``, which a sync ``EventStore`` may share (then its item
    class, position type and capabilities are this view's, and the other arguments must not
    be given)."""

    capabilities = InMemoryActiveRecordStrategy.capabilities

    def __init__(
        self,
        active_record_class: Any = None,
        sequenced_item_class: type[T] = SequencedItem,  # type: ignore[assignment]
        position_type: type | None = None,
        store: InMemoryActiveRecordStrategy[T] | None = None,
    ) -> None:
        if store is None:
            store = InMemoryActiveRecordStrategy(
                active_record_class, sequenced_item_class, position_type
            )
        elif (active_record_class, sequenced_item_class, position_type) != (
                None, SequencedItem, None):
            raise ConfigurationError(
                "AsyncInMemoryActiveRecordStrategy(store=...) takes its item class and "
                "position type from the store; give either store= or the other arguments"
            )
        super().__init__(store.active_record_class, store.sequenced_item_class)
        self.position_type = store.position_type
        self.capabilities = store.capabilities
        self.store = store

    async def _append(self, items: list[T]) -> None:
        self.store._append(items)

    async def _append_expecting(self, items: list[T], expected: Any) -> None:
        self.store._append_expecting(items, expected)

    async def _get_items(
        self,
        sequence_id: Any,
        gt: Any,
        gte: Any,
        lt: Any,
        lte: Any,
        limit: int | None,
        is_ascending: bool,
    ) -> list[T]:
        return self.store._get_items(sequence_id, gt, gte, lt, lte, limit, is_ascending)

    async def _iter_pages(self, page_size: int) -> AsyncIterator[list[T]]:
        for page in self.store._iter_pages(page_size):
            yield page

    async def _read_all(self, after: int, limit: int) -> list[OrderedItem]:
        return self.store._read_all(after, limit)

    async def _read_category(self, after: int, limit: int, category: str) -> list[OrderedItem]:
        return self.store._read_category(after, limit, category)

    async def wait_for_items(self, after: int, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()

        def wake() -> None:  # called by the writer, in whatever thread it runs
            try:
                loop.call_soon_threadsafe(woken.set)
            except RuntimeError:  # the loop closed meanwhile: nobody waits any more
                pass

        with self.store.waking(wake):
            if self.store.stored_count() > after:
                return
            try:
                await asyncio.wait_for(woken.wait(), timeout)
            except TimeoutError:
                pass
