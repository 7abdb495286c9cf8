"""Async objects seen as sync ones, so that the sync kit's tests run against async strategies.

``LoopThread`` runs an event loop in a thread of its own; ``SyncView(obj, loop_thread)``
forwards every attribute of ``obj``: what a method returns is awaited on that loop if it is
awaitable, iterated there if it is an async iterator, and attributes that are async objects
themselves (an async store's strategy) are seen through a ``SyncView`` too. Calls may come
from several threads at once: their coroutines then run concurrently on the one loop, as the
tasks of a server would.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

R = TypeVar("R")


class LoopThread:
    """An event loop running in a daemon thread until ``close()``."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="kit-event-loop",
                                       daemon=True)
        self.thread.start()

    def run(self, awaitable: Awaitable[R]) -> R:
        """Await ``awaitable`` on the loop and return its result (or raise its exception)."""
        if threading.current_thread() is self.thread:
            raise RuntimeError("LoopThread.run() called from its own loop")
        return asyncio.run_coroutine_threadsafe(_await(awaitable), self.loop).result()

    def call(self, function: Callable[..., R], *args: Any) -> R:
        """Call ``function(*args)`` inside the loop (for what needs a running loop)."""
        async def inside() -> R:
            return function(*args)

        return self.run(inside())

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.run(self.loop.shutdown_asyncgens())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=60)
        self.loop.close()


async def _await(awaitable: Awaitable[R]) -> R:
    return await awaitable


class SyncView:
    """``obj`` with its coroutines awaited and its async iterators iterated on ``runner``."""

    def __init__(self, wrapped: Any, runner: LoopThread) -> None:
        self.wrapped = wrapped
        self.runner = runner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.wrapped, name)
        if inspect.isroutine(value):
            @functools.wraps(value)
            def call(*args: Any, **kwargs: Any) -> Any:
                return self._sync(value(*args, **kwargs))

            return call
        return self._sync(value)

    def _sync(self, result: Any) -> Any:
        if inspect.isawaitable(result):
            return self._sync(self.runner.run(result))
        if isinstance(result, AsyncIterator):
            return self._iterate(result)
        if not isinstance(result, type) and _is_async(type(result)):  # type: ignore[arg-type]
            return SyncView(result, self.runner)
        return result

    def __iter__(self) -> Iterator[Any]:
        return self._iterate(self.wrapped.__aiter__())

    def _iterate(self, iterator: AsyncIterator[Any]) -> Iterator[Any]:
        while True:
            try:
                yield self.runner.run(anext(iterator))
            except StopAsyncIteration:
                return

    def __repr__(self) -> str:
        return f"SyncView({self.wrapped!r})"


@functools.cache
def _is_async(cls: type) -> bool:
    """Whether instances of ``cls`` have coroutine methods or are async iterables."""
    return hasattr(cls, "__aiter__") or any(
        inspect.iscoroutinefunction(getattr(cls, name, None)) for name in dir(cls)
        if not name.startswith("__")
    )


def unwrap(value: Any) -> Any:
    """The object a ``SyncView`` shows (or ``value`` itself)."""
    return value.wrapped if isinstance(value, SyncView) else value
