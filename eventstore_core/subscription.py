"""Following everything that is stored, in the order it was committed, live.

A catch-up subscription reads the global order page by page from a position, then waits for
more. It yields every item exactly once, in order: backends guarantee that global positions
increase in commit order, so nothing committed later can appear below a position already
read. Save ``subscription.position`` with your own results and resume from it after a restart.
With ``category="order"`` (backends declaring ``category_reads``) it follows the streams
``order-...`` only, with the same global positions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from .activerecordstrategy import AbstractActiveRecordStrategy, OrderedItem
from .exceptions import ConfigurationError


class Following:
    """What the sync and async subscriptions share: their arguments' rules and when to read,
    wait or end (written once; they differ only in how they wait)."""

    def __init__(
        self,
        strategy: Any,
        after: int = 0,
        page_size: int = 500,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        category: str | None = None,
    ) -> None:
        if not strategy.capabilities.global_order:
            raise ConfigurationError(
                f"{type(strategy).__name__} has no global order, so it cannot be followed; "
                f"backends with one: memory, sqlalchemy"
            )
        strategy.check_page_size(page_size)
        strategy.check_read_all(after, page_size)
        if category is not None:
            strategy.check_category(category)
        self.strategy = strategy
        self.position = after
        #: Only the streams ``<category>-...`` (``read_all(..., category=)``), or all.
        self.category = category
        #: The highest global position seen of any stream (a category subscription waits
        #: for items above it, not above its own position, which others' items pass).
        self.head = after
        #: The arguments of each read.
        self._read_options: dict[str, Any] = {} if category is None else {"category": category}
        self.page_size = page_size
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._stopped = threading.Event()
        self._idle_since = time.monotonic()

    def _start(self) -> None:
        self._idle_since = time.monotonic()

    def _wait_after(self, read: int) -> float | None:
        """After a page of ``read`` items: how long to wait for more before reading again
        (0: read at once, the page was full), or None: nothing new came for ``timeout``."""
        now = time.monotonic()
        if read == self.page_size:
            self._idle_since = now
            return 0.0
        if read:
            self._idle_since = now
        waited = now - self._idle_since
        if self.timeout is not None and waited >= self.timeout:
            return None
        if self.timeout is None:
            return self.poll_interval
        return min(self.poll_interval, self.timeout - waited)

    def _seen(self, page: list[OrderedItem]) -> int | None:
        """Note a page of the global order read past ``head``; the position to wait above
        once the order is read to its end (None: read on)."""
        if page:
            self.head = max(self.head, page[-1].global_position)
        return self.head if len(page) < self.page_size else None

    def stop(self) -> None:
        """End the iteration (from another thread, or from inside the loop)."""
        self._stopped.set()


class CatchUpSubscription(Following):
    """Iterates over ``OrderedItem``s above ``after``; blocks for new ones until stopped.

    ``timeout`` (seconds) ends the iteration once nothing new arrived for that long;
    ``None`` waits for ever (until ``stop()``).
    """

    strategy: AbstractActiveRecordStrategy[Any]

    def __init__(
        self,
        strategy: AbstractActiveRecordStrategy[Any],
        after: int = 0,
        page_size: int = 500,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        category: str | None = None,
    ) -> None:
        super().__init__(strategy, after, page_size, timeout, poll_interval, category)

    def _wait_above(self) -> int:
        """The position to wait above: this subscription's own, or for a category the end
        of the global order (read up to it, past other streams' items)."""
        if self.category is None:
            return self.position
        self.head = max(self.head, self.position)
        while True:
            end = self._seen(self.strategy.read_all(self.head, self.page_size))
            if end is not None:
                return end

    def __iter__(self) -> Iterator[OrderedItem]:
        self._start()
        while not self._stopped.is_set():
            page = self.strategy.read_all(self.position, self.page_size, **self._read_options)
            for ordered in page:
                self.position = ordered.global_position
                yield ordered
                if self._stopped.is_set():
                    return
            wait = self._wait_after(len(page))
            if wait is None:
                return
            if wait:
                self.strategy.wait_for_items(self._wait_above(), wait)
