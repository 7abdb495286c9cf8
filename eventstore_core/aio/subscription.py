"""``AsyncCatchUpSubscription``: the catch-up subscription as an async iterator.

The same rules as ``CatchUpSubscription`` (they share ``Following``: arguments, when to read
again, wait or end); only reading and waiting are awaited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ..activerecordstrategy import OrderedItem
from ..subscription import Following
from .strategy import AbstractAsyncActiveRecordStrategy


class AsyncCatchUpSubscription(Following):
    """``async for ordered in subscription``: every ``OrderedItem`` above ``after``, once, in
    order, then new ones as they are committed, until ``stop()`` or ``timeout`` seconds
    without anything new (``None``: for ever). ``subscription.position`` is where to resume.
    """

    strategy: AbstractAsyncActiveRecordStrategy[Any]

    def __init__(
        self,
        strategy: AbstractAsyncActiveRecordStrategy[Any],
        after: int = 0,
        page_size: int = 500,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        category: str | None = None,
    ) -> None:
        super().__init__(strategy, after, page_size, timeout, poll_interval, category)

    async def _wait_above(self) -> int:
        """As the sync subscription's ``_wait_above``."""
        if self.category is None:
            return self.position
        self.head = max(self.head, self.position)
        while True:
            end = self._seen(await self.strategy.read_all(self.head, self.page_size))
            if end is not None:
                return end

    def __aiter__(self) -> AsyncIterator[OrderedItem]:
        return self._follow()

    async def _follow(self) -> AsyncIterator[OrderedItem]:
        self._start()
        while not self._stopped.is_set():
            page = await self.strategy.read_all(self.position, self.page_size,
                                                **self._read_options)
            for ordered in page:
                self.position = ordered.global_position
                yield ordered
                if self._stopped.is_set():
                    return
            wait = self._wait_after(len(page))
            if wait is None:
                return
            if wait:
                await self.strategy.wait_for_items(await self._wait_above(), wait)
