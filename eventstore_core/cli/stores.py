"""Opening a store named by a config string, and what ``eventstore info`` reports about it.

A backend strategy may offer ``describe() -> dict`` (the ``Describable`` protocol below) to
say what only its database knows: its tables, their sizes on disk, and counts it can give
faster than a scan. Where it does not, the counts come from one generic scan of every item.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..eventstore import EventStore
from ..exceptions import ConfigurationError

#: The variable that names the store when no config string is given on the command line.
STORE_VARIABLE = "EVENTSTORE_URL"


def store_spec(given: str | None) -> str:
    """The config string given, else ``$EVENTSTORE_URL``; an error naming both if neither."""
    spec = given or os.environ.get(STORE_VARIABLE, "")
    if not spec:
        raise ConfigurationError(
            f"no store given: pass a config string (e.g. sqlite:///app.db) or set {STORE_VARIABLE}"
        )
    return spec


def open_store(spec: str) -> EventStore:
    """The store a config string names (``sqlite:///app.db``, ``postgresql://...``,
    ``cassandra://host1,host2/keyspace``, ``memory://``, with options as query parameters):
    ``EventStore.from_config`` reads it."""
    return EventStore.from_config(spec)


@runtime_checkable
class Describable(Protocol):
    """What a backend strategy may offer to ``eventstore info``.

    ``describe()`` returns a dict with any of these keys (each optional):

    * ``"backend"``: str, e.g. ``"sqlalchemy (sqlite)"``
    * ``"tables"``: list of dicts with ``"name"`` and, where the database tells them,
      ``"rows"`` (int) and ``"bytes"`` (int, size on disk, indexes included)
    * ``"size_bytes"``: int, the size on disk of the whole store (database file, keyspace)
    * ``"items"``, ``"sequences"``: int, exact counts, where the database has them cheaply
    * ``"global_position"``: int, the highest global position stored

    Counts it leaves out are found by a scan of every item.
    """

    def describe(self) -> dict[str, Any]: ...


@dataclass
class StoreSummary:
    backend: str
    capabilities: dict[str, bool]
    items: int
    sequences: int
    global_position: int | None
    tables: list[dict[str, Any]] = field(default_factory=list)
    size_bytes: int | None = None
    counted_by: str = "scan"


def summarize(store: EventStore, page_size: int = 1000) -> StoreSummary:
    """Counts and sizes of a store: from ``describe()`` where the backend offers it, the rest
    by one scan (the global order where there is one, else every item)."""
    strategy = store.active_record_strategy
    described: dict[str, Any] = {}
    if isinstance(strategy, Describable):
        described = dict(strategy.describe())
    has_order = strategy.capabilities.global_order
    wanted = {"items", "sequences"} | ({"global_position"} if has_order else set())
    counts = {key: described[key] for key in wanted if key in described}
    counted_by = "backend"
    if wanted - set(counts):
        scanned = scan_counts(store, page_size)
        counted_by = "scan" if not counts else "backend and scan"
        for key in wanted - set(counts):
            counts[key] = scanned[key]
    return StoreSummary(
        backend=described.get("backend") or type(strategy).__name__,
        capabilities={k: bool(v) for k, v in vars(strategy.capabilities).items()},
        items=counts["items"],
        sequences=counts["sequences"],
        global_position=counts.get("global_position") if has_order else None,
        tables=list(described.get("tables", [])),
        size_bytes=described.get("size_bytes"),
        counted_by=counted_by,
    )


def estimated_items(store: EventStore) -> int:
    """How many items there are, for a progress bar: the backend's count where it describes
    itself, else the last global position (a few reads; exact unless failed writes left
    gaps), else a count by scan."""
    strategy = store.active_record_strategy
    if isinstance(strategy, Describable):
        known = strategy.describe().get("items")
        if isinstance(known, int):
            return known
    if strategy.capabilities.global_order:
        return last_global_position(store)
    return scan_counts(store)["items"]


def scan_counts(store: EventStore, page_size: int = 1000) -> dict[str, int]:
    """Items and distinct sequences by reading every item once (in the backend's own order,
    since a global order may show the newest items only after a delay; memory: one entry per
    sequence, never per item), and the highest global position where there is one."""
    strategy = store.active_record_strategy
    sequences: set[Any] = set()
    items = 0
    for item in strategy.all_items(page_size=page_size):
        items += 1
        sequences.add(item[0])
    highest = last_global_position(store) if strategy.capabilities.global_order else 0
    return {"items": items, "sequences": len(sequences), "global_position": highest}


def ordered_items(
    store: EventStore, page_size: int = 1000, after: int = 0
) -> Iterator[tuple[int | None, Any]]:
    """Every item once, with its global position where the store has a global order
    (then in that order, resumable from ``after``); else in the backend's own order, with
    None. Never more than a page in memory."""
    strategy = store.active_record_strategy
    if strategy.capabilities.global_order:
        while True:
            page = strategy.read_all(after, page_size)
            for ordered in page:
                yield ordered.global_position, ordered.item
            if len(page) < page_size:
                return
            after = page[-1].global_position
    elif after:
        raise ConfigurationError(
            f"{type(strategy).__name__} has no global order, so it cannot be read from a "
            f"global position"
        )
    else:
        for item in strategy.all_items(page_size=page_size):
            yield None, item


def last_global_position(store: EventStore) -> int:
    """The highest global position stored (0 if none), in a few reads: an exponential then
    a binary search of ``read_all(after, 1)``."""
    strategy = store.active_record_strategy
    if not strategy.capabilities.global_order:
        raise ConfigurationError(
            f"{type(strategy).__name__} has no global order: name a sequence to read"
        )
    if isinstance(strategy, Describable):
        known = strategy.describe().get("global_position")
        if isinstance(known, int):
            return known
    low, high = 0, 1  # invariant: something is stored above low (or low is 0)
    while strategy.read_all(high, 1):
        low, high = high, high * 2
    # nothing above high; find the last stored position in (low, high]
    while high - low > 1:
        middle = (low + high) // 2
        if strategy.read_all(middle, 1):
            low = middle
        else:
            high = middle
    found = strategy.read_all(low, 1)
    return found[0].global_position if found else low
