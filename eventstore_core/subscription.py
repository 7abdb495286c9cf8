"""Following everything that is stored, in the order it was committed, live.

A catch-up subscription reads the global order page by page from a position, then waits for
more. It yields every item exactly once, in order: backends guarantee that global positions
increase in commit order, so nothing committed later can appear below a position already
read. Save ``subscription.position`` with your own results and resume from it after a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from .activerecordstrategy import AbstractActiveRecordStrategy, OrderedItem
from .exceptions import ConfigurationError, InvalidEventError


class CatchUpSubscription:
    """Iterates over ``OrderedItem``s above ``after``; blocks for new ones until stopped.

    ``timeout`` (seconds) ends the iteration once nothing new arrived for that long;
    ``None`` waits for ever (until ``stop()``).
    """

    def __init__(
        self,
        strategy: AbstractActiveRecordStrategy[Any],
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
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise InvalidEventError(
                f"after must be a global position (an int of at least 0), got {after!r}"
            )
        self.strategy = strategy
        self.position = after
        self.page_size = page_size
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._stopped = threading.Event()

    def __iter__(self) -> Iterator[OrderedItem]:
        import time

        idle_since = time.monotonic()
        while not self._stopped.is_set():
            page = self.strategy.read_all(self.position, self.page_size)
            for ordered in page:
                self.position = ordered.global_position
                yield ordered
                if self._stopped.is_set():
                    return
            if len(page) == self.page_size:
                idle_since = time.monotonic()
                continue
            if page:
                idle_since = time.monotonic()
            waited = time.monotonic() - idle_since
            if self.timeout is not None and waited >= self.timeout:
                return
            remaining = self.poll_interval if self.timeout is None else min(
                self.poll_interval, self.timeout - waited
            )
            self.strategy.wait_for_items(self.position, remaining)

    def stop(self) -> None:
        """End the iteration (from another thread, or from inside the loop)."""
        self._stopped.set()
