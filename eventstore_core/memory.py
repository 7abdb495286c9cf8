"""Built-in plugin: an in-memory backend, for tests and for trying things out.

Registered as ``memory`` through the same hook as every other backend. It has everything a
backend can declare but sharing between processes: transactions across sequences, a global
order, timestamp positions, snapshots, named streams and category reads, expected versions,
event ids and metadata (``EnvelopedItem`` records).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from .activerecordstrategy import AbstractActiveRecordStrategy, OrderedItem, T
from .capabilities import Capabilities
from .config import Option
from .exceptions import ConfigurationError
from .hookspecs import BackendRegistrar, hookimpl
from .sequenceditem import EnvelopedItem, SequencedItem, StoredEvent
from .streams import category_of
from .urls import StoreURL


class InMemoryActiveRecordStrategy(AbstractActiveRecordStrategy[T]):
    """Keeps items in dicts of sorted lists, guarded by one lock. Lost when the process ends.

    ``position_type`` is ``int`` by default; pass ``decimal.Decimal`` for timestamp positions.
    """

    capabilities = Capabilities(
        transactions_across_sequences=True,
        shared_between_processes=False,
        global_order=True,
        timestamp_positions=True,
        snapshots=True,
        named_streams=True,
        category_reads=True,
        expected_versions=True,
        event_ids=True,
        metadata=True,
    )

    def __init__(
        self,
        active_record_class: Any = None,
        sequenced_item_class: type[T] = SequencedItem,  # type: ignore[assignment]
        position_type: type | None = None,
    ) -> None:
        super().__init__(active_record_class, sequenced_item_class)
        if position_type is not None:
            self.position_type = position_type
        self._lock = threading.Lock()
        self._stored = threading.Condition(self._lock)
        self._positions: dict[Any, list[Any]] = {}  # sequence id -> sorted positions
        self._items: dict[Any, dict[Any, T]] = {}  # sequence id -> position -> item
        self._log: list[T] = []  # every item in commit order; global position = index + 1
        self._categories: dict[str, list[int]] = {}  # category -> its global positions
        self._wakers: set[Callable[[], None]] = set()  # called after each append (async waits)

    def _append(self, items: list[T]) -> None:
        with self._lock:
            stored = self._items
            for item in items:
                if item[1] in stored.get(item[0], ()):  # taken: a conflict, or a retry
                    retried = self.retried(self._taken(items))  # ConcurrencyError unless
                    items = [i for i in items if (i[0], i[1]) not in retried]  # retries
                    break
            self._write(items)

    def _append_expecting(self, items: list[T], expected: Any) -> None:
        with self._lock:
            taken = self._taken(items)
            same = {(new[0], new[1]) for new, stored in taken if self.same_event(new, stored)}
            if len(same) == len(items):  # a retry of an append that was written: done
                return
            sequence_id = items[0][0]
            positions = self._positions.get(sequence_id, ())
            found = next((p for p in reversed(positions) if (sequence_id, p) not in same),
                         None)
            if not self.expected_met(expected, found):
                raise self.wrong_expected_version(sequence_id, expected, found)
            if taken:
                retried = self.retried(taken)
                items = [item for item in items if (item[0], item[1]) not in retried]
            self._write(items)

    def _taken(self, items: list[T]) -> list[tuple[T, T]]:
        """(new item, stored item) for each position of ``items`` already taken."""
        stored = self._items
        return [(item, stored[item[0]][item[1]]) for item in items
                if item[1] in stored.get(item[0], ())]

    def _write(self, items: list[T]) -> None:
        """Store checked items (the lock held)."""
        if not items:
            return
        stored, positions, log = self._items, self._positions, self._log
        for item in items:
            sequence_id, position = item[0], item[1]
            if sequence_id not in stored:
                stored[sequence_id] = {}
                positions[sequence_id] = []
            stored[sequence_id][position] = item
            bisect.insort(positions[sequence_id], position)
            log.append(item)
            if type(sequence_id) is str:
                category = category_of(sequence_id)
                if category is not None:  # its global position: len(log)
                    self._categories.setdefault(category, []).append(len(log))
        self._stored.notify_all()
        for wake in self._wakers:
            wake()

    def _get_items(
        self,
        sequence_id: Any,
        gt: Any,
        gte: Any,
        lt: Any,
        lte: Any,
        limit: int | None,
        is_ascending: bool,
    ) -> list[T]:
        with self._lock:
            positions = self._positions.get(sequence_id, [])
            start, stop = 0, len(positions)
            if gt is not None:
                start = max(start, bisect.bisect_right(positions, gt))
            if gte is not None:
                start = max(start, bisect.bisect_left(positions, gte))
            if lt is not None:
                stop = min(stop, bisect.bisect_left(positions, lt))
            if lte is not None:
                stop = min(stop, bisect.bisect_right(positions, lte))
            if limit is not None:  # slice only the window that will be returned
                if is_ascending:
                    stop = min(stop, start + limit)
                else:
                    start = max(start, stop - limit)
            selected = positions[start:stop] if start < stop else []
            if not is_ascending:
                selected.reverse()
            items = self._items.get(sequence_id, {})
            return [items[position] for position in selected]

    def _iter_pages(self, page_size: int) -> Iterator[list[T]]:
        after = 0
        while True:
            page = self.read_all(after, page_size)
            if page:
                yield [ordered.item for ordered in page]
            if len(page) < page_size:
                return
            after = page[-1].global_position

    def _read_all(self, after: int, limit: int) -> list[OrderedItem]:
        with self._lock:
            start = after
            return [
                OrderedItem(start + offset + 1, item)
                for offset, item in enumerate(self._log[start:start + limit])
            ]

    def _read_category(self, after: int, limit: int, category: str) -> list[OrderedItem]:
        with self._lock:
            positions = self._categories.get(category, [])
            start = bisect.bisect_right(positions, after)
            log = self._log
            return [OrderedItem(p, log[p - 1]) for p in positions[start:start + limit]]

    def wait_for_items(self, after: int, timeout: float) -> None:
        with self._stored:
            self._stored.wait_for(lambda: len(self._log) > after, timeout=timeout)

    def stored_count(self) -> int:
        """How many items are stored (the last global position)."""
        return len(self._log)

    @contextmanager
    def waking(self, wake: Callable[[], None]) -> Iterator[None]:
        """Call ``wake()`` after each append while inside the block (how an async view
        waits for items without polling)."""
        with self._lock:
            self._wakers.add(wake)
        try:
            yield
        finally:
            with self._lock:
                self._wakers.discard(wake)


#: ``record=`` of ``from_config("memory", ...)``: the item class and position type.
RECORDS: dict[str, tuple[type, type | None]] = {
    "integer": (SequencedItem, None),
    "stored_event": (StoredEvent, None),
    "timestamp": (SequencedItem, Decimal),
    "enveloped": (EnvelopedItem, None),
}


def _record(record: str) -> tuple[type, type | None]:
    if record not in RECORDS:
        raise ConfigurationError(
            f"record={record!r} is not one of {', '.join(RECORDS)} (the memory backend's "
            f"item types)"
        )
    return RECORDS[record]


OPTIONS = (Option("record", "item type: " + ", ".join(RECORDS), default="integer"),)


def _factory(record: str = "integer") -> InMemoryActiveRecordStrategy[Any]:
    item_class, position_type = _record(record)
    return InMemoryActiveRecordStrategy(sequenced_item_class=item_class,
                                        position_type=position_type)


def _async_factory(record: str = "integer") -> Any:
    from .aio.memory import AsyncInMemoryActiveRecordStrategy

    item_class, position_type = _record(record)
    return AsyncInMemoryActiveRecordStrategy(sequenced_item_class=item_class,
                                             position_type=position_type)


def _options_from_url(url: StoreURL) -> dict[str, Any]:
    """``memory://`` (or ``memory:``) names the backend and nothing else."""
    if url.hosts or url.path or url.username or url.driver:
        raise ConfigurationError(
            f"configuration string {url.redacted!r}: the memory backend takes no driver, "
            f"host, user or path; write memory://"
        )
    return {}


@hookimpl
def register_backends(register: BackendRegistrar) -> None:
    register("memory", _factory, url_schemes=("memory",), options_from_url=_options_from_url,
             async_factory=_async_factory, options=OPTIONS)
