"""Following everything that is stored, in the order it was committed, live.

A catch-up subscription reads the global order page by page from a position, then waits for
more. It yields every item exactly once, in order: backends guarantee that global positions
increase in commit order, so nothing committed later can appear below a position already
read. Save ``subscription.position`` with your own results and resume from it after a restart.
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
    ) -> None:
        if not strategy.capabilities.global_order:
            raise ConfigurationError(
                f"{type(strategy).__name__} has no global order, so it cannot be followed; "
                f"backends with one: memory, sqlalchemy"
            )
        strategy.check_page_size(page_size)
        strategy.check_read_all(after, page_size)
        self.strategy = strategy
        self.position = after
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
    ) -> None:
        super().__init__(strategy, after, page_size, timeout, poll_interval)

    def __iter__(self) -> Iterator[OrderedItem]:
        self._start()
        while not self._stopped.is_set():
            page = self.strategy.read_all(self.position, self.page_size)
            for ordered in page:
                self.position = ordered.global_position
                yield ordered
                if self._stopped.is_set():
                    return
            wait = self._wait_after(len(page))
            if wait is None:
                return
            if wait:
                self.strategy.wait_for_items(self.position, wait)
