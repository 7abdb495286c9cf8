"""Running a transaction again when the database says "busy" or "deadlock"."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

R = TypeVar("R")

#: Seconds during which a busy or deadlocked transaction is run again.
RETRY_TIMEOUT = 60.0


def retry_transient(
    attempt: Callable[[], R],
    timeout: float,
    should_retry: Callable[[BaseException], bool],
) -> R:
    """Call ``attempt`` until it returns, retrying errors ``should_retry`` accepts.

    Waits between attempts grow from about a millisecond to 100 ms, jittered so that
    competing writers spread out; ``timeout`` seconds after the first attempt began, the last
    error is raised.
    """
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            return attempt()
        except Exception as error:
            if not should_retry(error) or time.monotonic() >= deadline:
                raise
            time.sleep(min(delay * (0.5 + random.random()), max(deadline - time.monotonic(), 0)))
            delay = min(delay * 2, 0.1)
