"""``AsyncEventStore``: ``EventStore``'s methods, arguments and semantics, awaited.

It shares ``BaseEventStore`` with ``EventStore``: assembly from plugins (``from_config``),
the mapping of events to items and back (codec, cipher, topics) and the refusal of what is
not an event. Only the calls to the strategy are awaited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from ..activerecordstrategy import DEFAULT_PAGE_SIZE
from ..eventstore import BaseEventStore
from ..streams import ANY, Envelope
from .strategy import AbstractAsyncActiveRecordStrategy


class AsyncEventStore(BaseEventStore):
    """Appends and retrieves domain events through an ``AbstractAsyncActiveRecordStrategy``.

    ``AsyncEventStore.from_config(...)`` takes what ``EventStore.from_config`` takes (a
    backend name or a configuration string, options, ``EVENTSTORE_*``) and builds the
    backend's async strategy. Use it as ``async with AsyncEventStore.from_config(...) as
    store:`` or call ``await store.close()``.
    """

    asynchronous: ClassVar[bool] = True
    active_record_strategy: AbstractAsyncActiveRecordStrategy[Any]

    # -- writing ------------------------------------------------------------------------
    async def append(
        self, domain_event_or_events: Any, expected_version: Any = ANY, metadata: Any = None
    ) -> None:
        """Store one event, or a list of events atomically. ``ConcurrencyError`` if taken;
        ``expected_version`` and ``metadata`` as the sync ``append``.

        Events are mapped (and encrypted) before anything is awaited; a task cancelled
        during the append leaves all of the list stored or none of it."""
        items = self.items_of(domain_event_or_events, metadata)
        if expected_version is ANY:
            await self.active_record_strategy.append(items)
        else:
            await self.active_record_strategy.append(items, expected_version)

    # -- reading ------------------------------------------------------------------------
    async def get_domain_events(
        self,
        originator_id: Any,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        limit: int | None = None,
        is_ascending: bool = True,
    ) -> list[Any]:
        """Events of one sequence within the bounds, in order; ``limit`` applies after it."""
        return self.events_of(await self.active_record_strategy.get_items(
            originator_id, gt=gt, gte=gte, lt=lt, lte=lte, limit=limit, is_ascending=is_ascending
        ))

    async def get_envelopes(
        self,
        originator_id: Any,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        limit: int | None = None,
        is_ascending: bool = True,
    ) -> list[Envelope]:
        """As ``get_domain_events``, each event in an ``Envelope`` with its metadata and id."""
        return self.envelopes_of(await self.active_record_strategy.get_items(
            originator_id, gt=gt, gte=gte, lt=lt, lte=lte, limit=limit, is_ascending=is_ascending
        ))

    async def get_domain_event(self, originator_id: Any, position: Any) -> Any:
        """The event at one position; ``ItemNotFound`` (a ``KeyError``) if there is none."""
        return self.event_of(await self.active_record_strategy.get_item(originator_id, position))

    async def get_most_recent_event(
        self, originator_id: Any, lt: Any = None, lte: Any = None
    ) -> Any | None:
        """The last event of a sequence (below ``lt`` / at or below ``lte``), or None."""
        events = await self.get_domain_events(originator_id, lt=lt, lte=lte, limit=1,
                                                 is_ascending=False)
        return events[0] if events else None

    def all_domain_events(self, page_size: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[Any]:
        """Every stored event of every sequence (``async for``), page by page. A bad
        ``page_size`` is refused at once."""
        items = self.active_record_strategy.all_items(page_size=page_size)  # checks at once
        return self._events_of_items(items)

    async def _events_of_items(self, items: AsyncIterator[Any]) -> AsyncIterator[Any]:
        event_of = self.event_of
        async for item in items:
            yield event_of(item)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self.all_domain_events()

    async def close(self) -> None:
        """Release the backend's connections."""
        await self.active_record_strategy.close()

    async def __aenter__(self) -> AsyncEventStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
