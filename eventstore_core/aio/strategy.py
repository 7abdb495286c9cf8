"""The async backend contract: the same rules as the sync one, with narrow methods that await.

``AbstractAsyncActiveRecordStrategy`` derives from the same ``StrategyRules`` as
``AbstractActiveRecordStrategy``: the public methods check their arguments with the very same
functions, then await the backend's narrow methods (``_append``, ``_get_items``,
``_iter_pages``, and for a global order ``read_all`` / ``wait_for_items``). See
``docs/async.md``.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..activerecordstrategy import (
    DEFAULT_PAGE_SIZE,
    POLL_SLEEP,
    OrderedItem,
    StrategyRules,
    T,
)
from ..exceptions import UnsupportedFeatureError
from ..streams import ANY


class AbstractAsyncActiveRecordStrategy(StrategyRules[T], ABC):
    """Reads and writes sequenced items without blocking the event loop.

    A task cancelled while one of these methods waits must leave the store as it was before
    the call (an append is all or nothing, also when cancelled) and hold nothing (no
    connection checked out, no transaction open).
    """

    # -- writing ------------------------------------------------------------------------
    async def append(
        self, sequenced_item_or_items: T | Sequence[T], expected_version: Any = ANY
    ) -> None:
        """Store one item, or a list of items atomically (all or nothing).

        ``ConcurrencyError`` if any position is already taken (nothing of the call is
        written), ``InvalidEventError`` for a malformed item (before anything is awaited);
        ``expected_version`` as the sync ``append``.
        """
        items = self.items_to_append(sequenced_item_or_items)
        if expected_version is ANY:
            if items:
                await self._append(items)
            return
        self.check_expected_version(items, expected_version)
        if items:
            await self._append_expecting(items, expected_version)

    @abstractmethod
    async def _append(self, items: list[T]) -> None:
        """Write checked items atomically; translate a taken position to ConcurrencyError."""

    async def _append_expecting(self, items: list[T], expected: Any) -> None:
        """As the sync ``_append_expecting``."""
        raise UnsupportedFeatureError(f"{type(self).__name__} cannot check an expected version")

    # -- reading ------------------------------------------------------------------------
    async def get_items(
        self,
        sequence_id: Any,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        limit: int | None = None,
        is_ascending: bool = True,
    ) -> list[T]:
        """Items of one sequence within the bounds, ordered by position (as the sync
        ``get_items``: ``limit`` applies after the order)."""
        self.check_read(sequence_id, gt, gte, lt, lte, limit)
        if limit == 0:
            return []
        return await self._get_items(sequence_id, gt, gte, lt, lte, limit, bool(is_ascending))

    @abstractmethod
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
        """Read checked arguments (as the sync ``_get_items``)."""

    async def get_item(self, sequence_id: Any, position: Any) -> T:
        """The item at one position; ``ItemNotFound`` if there is none."""
        items = await self.get_items(sequence_id, gte=position, lte=position, limit=1)
        if not items:
            raise self.item_not_found(sequence_id, position)
        return items[0]

    def all_items(self, page_size: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[T]:
        """Every stored item, read page by page (``async for``). A bad ``page_size`` is
        refused at once, when this is called, not when iteration starts."""
        self.check_page_size(page_size)
        return self._items_of_pages(page_size)

    async def _items_of_pages(self, page_size: int) -> AsyncIterator[T]:
        async for page in self._iter_pages(page_size):
            for item in page:
                yield item

    @abstractmethod
    def _iter_pages(self, page_size: int) -> AsyncIterator[list[T]]:
        """Yield (``async def`` with ``yield``) lists of at most ``page_size`` items until
        every item was yielded once."""

    # -- the global order ---------------------------------------------------------------
    async def read_all(
        self, after: int = 0, limit: int = DEFAULT_PAGE_SIZE, category: str | None = None
    ) -> list[OrderedItem]:
        """Items with a global position above ``after``, in that order, at most ``limit``
        (as the sync ``read_all``: arguments checked here, the same on every backend)."""
        self.check_read_all(after, limit)
        if category is not None:
            self.check_category(category)
            return await self._read_category(after, limit, category) if limit else []
        if limit == 0:
            return []
        return await self._read_all(after, limit)

    async def _read_category(self, after: int, limit: int, category: str) -> list[OrderedItem]:
        """As the sync ``_read_category``."""
        raise UnsupportedFeatureError(f"{type(self).__name__} cannot read a category")

    async def _read_all(self, after: int, limit: int) -> list[OrderedItem]:
        """Read checked arguments (as the sync ``_read_all``)."""
        raise self.no_global_order()

    async def wait_for_items(self, after: int, timeout: float) -> None:
        """Return once items above ``after`` may have been stored, or ``timeout`` passed.
        Polls by default; backends with notifications return when a writer says so."""
        await asyncio.sleep(min(timeout, POLL_SLEEP))

    async def close(self) -> None:
        """Release connections held by this strategy (optional for backends)."""
