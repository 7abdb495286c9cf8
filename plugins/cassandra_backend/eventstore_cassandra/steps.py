"""Each operation written once, as a step function; a sync and an async driver run it.

A *step function* is a generator that yields what to do next (``Execute`` one statement,
``ExecuteAll`` several at once, ``Sleep``) and is sent the answer (a driver ``ResultSet``, a
list of them, None), or has the driver's exception thrown in at the ``yield``. It returns
the operation's result. It does no I/O itself, so the rules of an operation (which
statements, in what order, what an answer or an error means, how an unknown outcome is
settled) exist once, and two small drivers run them:

* ``run(session, steps)``: ``session.execute`` for each request (the sync strategy);
* ``await run_async(session, steps)``: ``session.execute_async``, its ``ResponseFuture``'s
  callbacks completing an asyncio future through ``loop.call_soon_threadsafe`` (the async
  strategy). No thread is spent per request: the driver's own I/O thread answers.

``HOLD``, yielded by a step function, marks its point of no return (an append about to send
its conditional write). From there the async driver finishes the operation even if its task
is cancelled: the cancellation waits until the outcome is settled, then the task ends with
``CancelledError`` if the outcome is known (read to learn which), or with the
``OutcomeUnknownError`` the settling ended with. A cancelled task so never leaves a write
in flight behind it, and never reports an unknown outcome as anything but unknown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from eventstore_core.exceptions import OutcomeUnknownError

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Execute:
    """Execute one statement; answered with its ``ResultSet`` (one page)."""

    statement: Any
    timeout: float | None = None  # None: the session's request timeout
    paging_state: bytes | None = None  # the page after the one that gave this state


@dataclass(frozen=True, slots=True)
class ExecuteAll:
    """Execute statements at once; answered with their ``ResultSet``s, in order."""

    statements: Sequence[Any]


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait; answered with None."""

    seconds: float


class _Hold:
    def __repr__(self) -> str:
        return "HOLD"


#: The point of no return of a step function (answered with None); see the module's text.
HOLD = _Hold()

Request = Execute | ExecuteAll | Sleep | _Hold
Steps = Generator[Request, Any, R]


def rows_of(statement: Any) -> Steps[list[Any]]:
    """Every row ``statement`` selects, page by page."""
    result = yield Execute(statement)
    rows: list[Any] = result.current_rows
    if result.paging_state is not None:
        rows = rows + (yield from rest_of(statement, result))
    return rows


def rest_of(statement: Any, result: Any) -> Steps[list[Any]]:
    """The rows of the pages after ``result``, the answer to ``statement``."""
    rows: list[Any] = []
    while result.paging_state is not None:
        result = yield Execute(statement, paging_state=result.paging_state)
        rows += result.current_rows
    return rows


# -- the sync driver ----------------------------------------------------------------------
def run(session: Any, steps: Steps[R]) -> R:
    """Run a step function with blocking calls; return what it returns."""
    send, throw = steps.send, steps.throw
    try:
        request = send(None)
        while True:
            try:
                result = _perform(session, request)
            except Exception as error:
                request = throw(error)
            else:
                request = send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _perform(session: Any, request: Request) -> Any:
    if type(request) is Execute:
        if request.timeout is None and request.paging_state is None:
            return session.execute(request.statement)
        return session.execute(request.statement, **_options(request))
    if type(request) is ExecuteAll:
        futures = [session.execute_async(statement) for statement in request.statements]
        return [future.result() for future in futures]
    if type(request) is Sleep:
        time.sleep(request.seconds)
    return None


def _options(request: Execute) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if request.timeout is not None:
        options["timeout"] = request.timeout
    if request.paging_state is not None:
        options["paging_state"] = request.paging_state
    return options


# -- the async driver ---------------------------------------------------------------------
async def run_async(session: Any, steps: Steps[R]) -> R:
    """Run a step function on the running event loop; return what it returns."""
    return await _drive(session, steps, None, holding=False)


async def _drive(session: Any, steps: Steps[R], answer: Any, holding: bool) -> R:
    send, throw = steps.send, steps.throw
    try:
        request = send(answer)
        while True:
            if request is HOLD:
                if not holding:
                    return await _finish(session, steps)
                request = send(None)
                continue
            try:
                result = await _perform_async(session, request)
            except asyncio.CancelledError:
                steps.close()
                raise
            except Exception as error:
                request = throw(error)
            else:
                request = send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def _finish(session: Any, steps: Steps[R]) -> R:
    """The rest of ``steps``, past its point of no return: a cancellation waits for it."""
    rest = asyncio.ensure_future(_drive(session, steps, None, holding=True))
    cancelled: asyncio.CancelledError | None = None
    while not rest.done():
        try:
            await asyncio.shield(rest)
        except asyncio.CancelledError as error:
            cancelled = error  # ours (the task's), unless the rest itself was cancelled
    if cancelled is None or rest.cancelled():
        return rest.result()
    outcome = rest.exception()
    if isinstance(outcome, OutcomeUnknownError):
        raise outcome
    raise cancelled  # settled, written or not: what a read shows now stays so


async def _perform_async(session: Any, request: Request) -> Any:
    if type(request) is Execute:
        return await execute_async(session, request.statement, **_options(request))
    if type(request) is ExecuteAll:
        return await asyncio.gather(
            *(execute_async(session, statement) for statement in request.statements))
    if type(request) is Sleep:
        await asyncio.sleep(request.seconds)
    return None


def execute_async(session: Any, statement: Any, **options: Any) -> asyncio.Future[Any]:
    """``session.execute_async(statement)`` as an asyncio future of its ``ResultSet``.

    The driver calls back in its I/O thread; the callback only hands the answer to the
    loop. A waiter cancelled meanwhile is left alone (the request ends by itself within the
    request timeout, and its callback then finds nobody waiting)."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[Any] = loop.create_future()
    response = session.execute_async(statement, **options)

    def answered(_: Any) -> None:
        try:
            loop.call_soon_threadsafe(_deliver, waiter, response)
        except RuntimeError:  # the loop was closed meanwhile: nobody waits any more
            pass

    response.add_callbacks(answered, answered)
    return waiter


def _deliver(waiter: asyncio.Future[Any], response: Any) -> None:
    if waiter.done():  # cancelled
        return
    try:
        waiter.set_result(response.result())  # done: returns at once
    except Exception as error:
        waiter.set_exception(error)
