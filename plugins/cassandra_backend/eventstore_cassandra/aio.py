"""``AsyncCassandraActiveRecordStrategy``: the Cassandra strategy for ``AsyncEventStore``.

The very operations of ``CassandraActiveRecordStrategy`` (the step functions of
``CassandraStrategyBase``: appends with their feed entry, conditional write, settling and
confirm; reads and their pages; the feed), awaited: each request is the driver's
``execute_async``, whose callback completes an asyncio future through
``loop.call_soon_threadsafe`` (see ``steps``). No thread is spent per request.

Cancellation: a task cancelled before an append sent its conditional write wrote none of
its rows (a feed entry it wrote is voided by the feed's readers). Once the conditional write
is sent, a cancellation waits until its outcome is settled (bounded by the request timeout
and the settling's few tries), then the task ends with ``CancelledError`` (the append is
all there or not at all, as a read now shows, and stays so), or with ``OutcomeUnknownError``
if settling could not tell. A conditional batch is applied all or nothing, so no part of a
list is ever stored.

What blocks the event loop: connecting and creating the tables (when the strategy is made,
as the sync one does), reading the table's layout from the schema (once per session, see
``layout``), preparing each statement the first time it is used on a session, and
``close()`` (run in a thread of its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from eventstore_core.activerecordstrategy import OrderedItem
from eventstore_core.aio import AbstractAsyncActiveRecordStrategy

from .steps import run_async
from .strategy import FIRST_PAGE, CassandraStrategyBase, PageCursor, T


class AsyncCassandraActiveRecordStrategy(
    CassandraStrategyBase[T], AbstractAsyncActiveRecordStrategy[T]
):
    """Writes and reads sequenced items in a Cassandra table without blocking the loop.

    Made as ``CassandraActiveRecordStrategy`` is (``active_record_class``,
    ``sequenced_item_class``, ``session=`` with ``keyspace=``, or ``settings=``)."""

    async def _append(self, items: list[T]) -> None:
        connection = self.connection
        await run_async(connection.session, self._append_steps(connection, items))

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
        connection = self.connection
        return await run_async(connection.session, self._get_items_steps(
            connection, sequence_id, gt, gte, lt, lte, limit, is_ascending))

    async def _read_all(self, after: int, limit: int) -> list[OrderedItem]:
        """The feed (see ``feed``): items older than ``feed_delay``, in a fixed order."""
        connection = self.connection
        return await run_async(connection.session, self._read_all_steps(connection, after, limit))

    async def _iter_pages(self, page_size: int) -> AsyncIterator[list[T]]:
        connection = self.connection
        cursor: PageCursor | None = FIRST_PAGE
        while cursor is not None:
            page, cursor = await run_async(
                connection.session, self._page_steps(connection, page_size, cursor))
            if page:
                yield page

    async def close(self) -> None:
        """Shut down the connection of a strategy that made its own datastore (the driver's
        shutdown joins its threads, so it runs in a thread of its own)."""
        if self.datastore is not None:
            await asyncio.to_thread(self._drop_own_connection)
