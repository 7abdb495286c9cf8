"""The global feed: every appended item once, in an order that never changes once read.

Cassandra has no global order of its own, and no transaction across partitions, so the feed
is built from three things that each live in one partition:

* the **rows** of the record table (one partition per sequence), written by the conditional
  append as before, each row also carrying ``feed_id``: the nonce of the feed entry that
  announced it;
* **feed entries** in ``<table>_feed``, one per append, partitioned by a 10 s time bucket and
  ordered by ``(ts, nonce)``: the writer's clock in microseconds when it began, and a random
  40-bit nonce. An entry names the sequence and the first and last position of its append,
  and has a ``state`` that is set at most once, by a lightweight transaction: ``confirmed``
  (by its writer), ``adopted`` or ``voided`` (by a reader);
* an **index** ``<table>_feed_index`` of the days and buckets that have entries, so a reader
  finds the next bucket without scanning empty time.

An append (with ``W = feed_write_window``, ``D = feed_delay``):

1. writes its feed entry (and, once per bucket and process, the index rows): a plain QUORUM
   write. If that took longer than ``W/2``, the entry is abandoned (no row will ever carry
   its nonce) and a new one is written; after three slow tries, ``DatastoreError``, nothing
   written;
2. writes its rows, with ``feed_id`` = the entry's nonce, in the conditional write
   (``IF NOT EXISTS``, one batch in the sequence's partition);
3. if steps 1-2 took longer than ``W`` in all, it confirms the entry (LWT ``IF state =
   null``). If a reader voided it first, it announces the rows again: a new entry, and one
   conditional batch moving the rows' ``feed_id`` from the old nonce to the new one.

A reader reads only entries with ``ts < now - D`` (its clock), in ``(ts, nonce)`` order, and
for each: ``confirmed`` or ``adopted`` -> the rows whose ``feed_id`` is the entry's nonce,
by position (the entry's items); ``voided`` -> nothing; not yet set -> it reads the rows
(QUORUM) and sets the state by LWT: ``adopted`` if rows carry the nonce, else ``voided``.
When the LWT finds a state already set (another reader, or the writer), that state holds.
A global position is ``ts << 64 | nonce << 24 | index in the entry``: increasing, sparse,
up to 115 bits.

Why this is every item once, in a fixed order, when writers' clocks are within
``S = D - W`` of the reader's: an entry with ``ts < now_reader - D`` was begun more than
``D - S = W`` ago (real time). A writer that kept its entry finished step 1 within ``W/2``
and, if it did not confirm, step 2 within ``W``: both are visible to the reader's QUORUM
reads. So a reader never reads past an entry that is still to come (order fixed), finds the
rows of every on-time append (adopted), and finds no rows of a dead or abandoned attempt
(voided; no row will ever get that nonce). A late writer (past ``W``) does not rely on
timing: its confirm LWT and the reader's decision LWT are ordered by Paxos, and if the
reader won with ``voided``, the writer re-announces the rows in a new entry. The state of an
entry is set once, so every reader, now or later, resumed or not, sees the same thing.

A list that crosses a partition boundary of a split table (see ``crossing``) is one entry like
any other; its step 2 is its parts and the commit LWT on its head row (its first position).
A reader finds its items through that head row: they are the entry's when the head carries
the entry's nonce and is committed (else none of them are: an uncommitted append is never
partly delivered). Re-announcing it moves only the head row's ``feed_id`` (one LWT), so the
move is atomic as for a list within one partition.

Which step can fail and what a reader sees:

* writer dies before or during step 1: no entry, or an entry that is voided; no rows.
* writer dies between steps 1 and 2: the entry is voided; the append did not happen.
* writer dies after step 2 (before or during step 3): the rows are there; the reader adopts
  the entry and delivers them, once.
* step 2 fails with a conflict (``ConcurrencyError``): the entry is voided.
* step 2's outcome is unknown: settled by proposing it again (``outcome``); applied ->
  step 3 as usual; ``OutcomeUnknownError`` -> see below.
* writer paused between the steps longer than ``W``: it confirms (step 3), and re-announces
  if a reader voided the entry first.

Beyond the bounds: a writer whose clock is behind the readers' by more than ``S`` writes
entries that readers may already have passed: those items are missed (or, read by a later
reader, delivered out of order). A conditional write that is still in flight after its
writer got ``OutcomeUnknownError`` and that lands after a reader voided its entry stores rows
that the feed never shows; the same if a late writer (past ``W``) is killed between its
rows landing and its confirm. Two entries with the same microsecond and the same 40-bit
nonce would be one (chance about 2^-40 per pair of appends begun in the same microsecond).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cassandra.query import BatchStatement, BatchType
from eventstore_core.activerecordstrategy import OrderedItem
from eventstore_core.exceptions import DatastoreError, EventStoreError, InvalidEventError

from .errors import describe, translate
from .settings import CassandraSettings
from .statements import RecordStatements
from .steps import Execute, ExecuteAll, Steps, rest_of, rows_of

log = logging.getLogger(__name__)

#: Width of one feed partition (a time bucket), in microseconds: fixed by the table's format.
BUCKET_US = 10_000_000
DAY_US = 86_400_000_000
NONCE_BITS, INDEX_BITS = 40, 24
CONFIRMED, ADOPTED, VOIDED = "confirmed", "adopted", "voided"
DELIVERED = (CONFIRMED, ADOPTED)
#: Tries of step 1 (a slow entry is abandoned) and rounds of step 3 (re-announcing).
ANNOUNCE_TRIES = 3
CONFIRM_ROUNDS = 3
#: The state of a committed append across partitions (``crossing.COMMITTED``).
COMMITTED_APPEND = "committed"
#: Feed entries read per request.
ENTRIES_PER_PAGE = 200

StepHook = Callable[[str], None]


def encode(ts: int, nonce: int, index: int) -> int:
    """The global position of the ``index``-th item of the entry ``(ts, nonce)``."""
    return (ts << 64) | (nonce << INDEX_BITS) | index


def decode(position: int) -> tuple[int, int, int]:
    """``(ts, nonce, index)`` of a global position."""
    return (position >> 64, (position >> INDEX_BITS) & ((1 << NONCE_BITS) - 1),
            position & ((1 << INDEX_BITS) - 1))


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Announcement:
    """A feed entry this process wrote, and when (monotonic) it began writing it."""

    bucket: int
    ts: int
    nonce: int
    started: float


class Feed:
    """Writes and reads the feed of one record table on one connection.

    Its operations are step functions (see ``steps``): the sync and the async strategy run
    the same steps."""

    def __init__(
        self,
        statements: RecordStatements,
        settings: CassandraSettings,
        step: StepHook,
    ) -> None:
        self.statements = statements
        self.settings = settings
        self.step = step
        self.write_window = settings.feed_write_window
        self.delay_us = int(settings.feed_delay * 1_000_000)
        self._indexed: set[int] = set()  # buckets whose index rows this process wrote

    # -- writing ------------------------------------------------------------------------
    def announce(self, sequence_id: Any, first: Any, last: Any,
                 also: Sequence[Any] = ()) -> Steps[Announcement]:
        """Step 1: a feed entry for an append of ``first``..``last`` of ``sequence_id`` (and
        the writes ``also``, sent with it)."""
        endpoints = self.settings.endpoints
        for _ in range(ANNOUNCE_TRIES):
            started = time.monotonic()
            ts = now_us()
            nonce = secrets.randbits(NONCE_BITS)
            bucket = ts // BUCKET_US
            statements = [self.statements.announce().bind(
                (bucket, ts, nonce, sequence_id, first, last)), *also]
            if bucket not in self._indexed:
                day = ts // DAY_US
                index = self.statements.index()
                statements += [index.bind((0, 0, day)), index.bind((1, day, bucket))]
            try:
                yield ExecuteAll(statements)
            except Exception as error:
                raise translate(
                    error, f"feed entry of an append to sequence {sequence_id} (nothing of the "
                    f"append was written)", endpoints,
                ) from error
            self._indexed.add(bucket)
            self.step("announced")
            if time.monotonic() - started <= self.write_window / 2:
                return Announcement(bucket, ts, nonce, started)
            # Too slow: a reader may have passed ts before it landed. Abandoned: no row will
            # ever carry this nonce, so it reads as voided.
        raise DatastoreError(
            f"append to sequence {sequence_id}: writing its feed entry took longer than "
            f"{self.write_window / 2:.3f} s (half of feed_write_window) {ANNOUNCE_TRIES} times "
            f"at Cassandra {endpoints}; nothing of the append was written"
        )

    def finish(self, announcement: Announcement, items: Sequence[Any],
               rehomed: Sequence[Any]) -> Steps[None]:
        """Step 3, after the rows are stored: confirm the entry if the append was late.
        ``rehomed``: the positions whose ``feed_id`` says which entry has the items (all of
        them; the head only for an append across partitions, see ``crossing``)."""
        self.step("stored")
        if time.monotonic() - announcement.started <= self.write_window:
            return
        sequence_id = items[0][0]
        positions = [item[1] for item in items]
        for _ in range(CONFIRM_ROUNDS):
            try:
                state = yield from self.decide(announcement, CONFIRMED)
            except Exception as error:
                # Undecided, a reader will find the rows and adopt them; voided, it would be
                # missed: say so loudly (this is the one case outside the feed's bounds).
                log.error("could not confirm the feed entry of the append to sequence %s at "
                          "positions %s (%s); if a reader voided it, the feed misses it",
                          sequence_id, positions, describe(error))
                return
            if state in DELIVERED:
                return
            # A reader voided the entry before our rows were visible: announce them again.
            # The rows are stored, so nothing here may raise (the append is done).
            try:
                new = yield from self.announce(sequence_id, min(positions), max(positions))
                moved = yield from self._rehome(
                    sequence_id, rehomed, announcement.nonce, new.nonce)
            except EventStoreError as error:
                log.error("the feed entry of the append to sequence %s at positions %s was "
                          "voided and announcing it again failed (%s): the feed misses it",
                          sequence_id, positions, error)
                return
            if not moved:
                log.error("the rows of the append to sequence %s at positions %s no longer "
                          "carry the feed id %s: not announced again", sequence_id, positions,
                          announcement.nonce)
                return
            self.step("reannounced")
            if time.monotonic() - new.started <= self.write_window:
                return
            announcement = new
        log.error("the feed entry of the append to sequence %s was voided %d times in a row",
                  sequence_id, CONFIRM_ROUNDS)

    def _rehome(
        self, sequence_id: Any, positions: Sequence[Any], old: int, new: int
    ) -> Steps[bool]:
        """Move the rows from feed entry ``old`` to ``new`` (one conditional batch)."""
        rehome = self.statements.rehome()
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        key = self.statements.key
        for position in positions:
            batch.add(rehome.bind((new, *key(sequence_id, position), position, old)))
        try:
            result = yield Execute(batch)
            return bool(result.current_rows[0][0])
        except Exception as error:
            raise translate(error, f"re-announcing the append to sequence {sequence_id} in "
                            f"the feed (it is stored)", self.settings.endpoints) from error

    def decide(self, entry: Announcement | Entry, state: str) -> Steps[str]:
        """Set an entry's state if it has none; return the state it has now."""
        result = yield Execute(
            self.statements.decide().bind((state, entry.bucket, entry.ts, entry.nonce)))
        row = result.current_rows[0]
        return state if row[0] else str(row[1])

    # -- reading ------------------------------------------------------------------------
    def read(self, after: int, limit: int, item_class: type[Any]) -> Steps[list[OrderedItem]]:
        """Items with a global position above ``after`` and older than the delay, in order."""
        horizon = now_us() - self.delay_us
        if horizon <= 0 or limit == 0:
            return []
        low_ts, low_nonce, _ = decode(after) if after > 0 else (0, 0, 0)
        if low_ts >= horizon:
            return []
        out: list[OrderedItem] = []
        days = yield from self._index_values(0, 0, low_ts // DAY_US, (horizon - 1) // DAY_US)
        for day in days:
            buckets_per_day = DAY_US // BUCKET_US
            buckets = yield from self._index_values(
                1, day, max(low_ts // BUCKET_US, day * buckets_per_day),
                min((horizon - 1) // BUCKET_US, (day + 1) * buckets_per_day - 1),
            )
            for bucket in buckets:
                cursor = max((low_ts, low_nonce), (bucket * BUCKET_US, 0))
                while True:
                    entries = yield from self._entries(bucket, cursor, horizon)
                    settled = yield from self._settled(entries)
                    for entry, rows in zip(entries, settled, strict=True):
                        new = tuple.__new__
                        for index, row in enumerate(rows):
                            item = new(item_class, (entry.sequence_id, *row))
                            position = encode(entry.ts, entry.nonce, index)
                            if position > after:
                                out.append(OrderedItem(position, item))
                                if len(out) >= limit:
                                    return out
                    if len(entries) < ENTRIES_PER_PAGE:
                        break
                    cursor = (entries[-1].ts, entries[-1].nonce + 1)
        return out

    def _index_values(self, level: int, key: int, low: int, high: int) -> Steps[list[int]]:
        if low > high:
            return []
        rows = yield from rows_of(self.statements.index_values().bind((level, key, low, high)))
        return [row[0] for row in rows]

    def _entries(self, bucket: int, cursor: tuple[int, int], horizon: int) -> Steps[list[Entry]]:
        result = yield Execute(self.statements.entries().bind(
            (bucket, cursor[0], cursor[1], horizon, ENTRIES_PER_PAGE)))
        return [Entry(bucket, *row) for row in result.current_rows]

    def _settled(self, entries: Sequence[Entry]) -> Steps[list[list[tuple[Any, Any, Any]]]]:
        """The rows of each entry, deciding first the entries nobody has decided.

        The reads of one page go out together, then its decisions (LWTs) together.
        """
        binds = self.statements.announced_binds
        reads = [(n, statement) for n, entry in enumerate(entries) if entry.state != VOIDED
                 for statement in binds(entry.sequence_id, entry.first, entry.last)]
        answers = yield ExecuteAll([statement for _, statement in reads])
        rows_of_entry: dict[int, list[Any]] = {}
        for (n, statement), answer in zip(reads, answers, strict=True):
            rows = answer.current_rows
            if answer.paging_state is not None:  # an append of more rows than a page
                rows = rows + (yield from rest_of(statement, answer))
            rows_of_entry.setdefault(n, []).extend(rows)
        found: list[list[tuple[Any, Any, Any]]] = [[] for _ in entries]
        for n, rows in rows_of_entry.items():
            found[n] = _announced_by(rows, entries[n])
        wanted = {n: ADOPTED if found[n] else VOIDED
                  for n, entry in enumerate(entries) if entry.state is None}
        decided = yield from self._decide_all(entries, wanted)
        for n, state in decided.items():
            if state == VOIDED:
                found[n] = []
            elif state != wanted[n]:  # the writer confirmed after our read found nothing
                found[n] = yield from self._rows(entries[n])
        return found

    def _decide_all(
        self, entries: Sequence[Entry], wanted: dict[int, str]
    ) -> Steps[dict[int, str]]:
        """Decide entries of one bucket in one conditional batch (one Paxos round: LWTs on
        one partition take turns, so one per entry would contend); the states they have."""
        decided: dict[int, str] = {}
        pending = dict(wanted)
        by_key = {(entries[n].ts, entries[n].nonce): n for n in pending}
        decide = self.statements.decide()
        while pending:
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            for n, state in pending.items():
                entry = entries[n]
                batch.add(decide.bind((state, entry.bucket, entry.ts, entry.nonce)))
            result = yield Execute(batch)
            rows = result.current_rows
            if rows[0][0]:
                decided.update(pending)
                return decided
            # Not applied: some entry has a state already; the answer shows which.
            names = list(result.column_names)
            settled = 0
            for row in rows:
                values = dict(zip(names, row, strict=False))
                key = by_key.get((values.get("ts"), values.get("nonce")))  # type: ignore[arg-type]
                if key is not None and values.get("state") is not None and key in pending:
                    decided[key] = str(values["state"])
                    del pending[key]
                    settled += 1
            if not settled:
                raise DatastoreError(
                    f"deciding {len(pending)} feed entries was not applied and the answer "
                    f"names none that is decided: {names}"
                )
        return decided

    def _rows(self, entry: Entry) -> Steps[list[tuple[Any, Any, Any]]]:
        rows: list[Any] = []
        for statement in self.statements.announced_binds(
                entry.sequence_id, entry.first, entry.last):
            rows += yield from rows_of(statement)
        return _announced_by(rows, entry)


def _announced_by(rows: Any, entry: Entry) -> list[tuple[Any, Any, Any]]:
    """The entry's items, by position: the rows that carry its nonce; for an append across
    partitions (rows with an ``append_id``, see ``crossing``), its rows when its head row
    (the entry's first position) carries the nonce and is committed."""
    if not rows or len(rows[0]) == 4:  # a table that is not split
        return [(position, topic, data) for position, topic, data, feed_id in rows
                if feed_id == entry.nonce]
    head = next((row for row in rows if row[0] == entry.first), None)
    across = (head[4] if head is not None and head[3] == entry.nonce
              and head[4] is not None and head[5] == COMMITTED_APPEND else None)
    return [(row[0], row[1], row[2]) for row in rows
            if (row[4] is None and row[3] == entry.nonce)
            or (across is not None and row[4] == across)]


@dataclass(frozen=True)
class Entry:
    """A feed entry as read."""

    bucket: int
    ts: int
    nonce: int
    sequence_id: Any
    first: Any
    last: Any
    state: str | None


def check_size(items: Sequence[Any]) -> None:
    if len(items) >= 1 << INDEX_BITS:
        raise InvalidEventError(
            f"an append of {len(items)} items is more than the feed numbers in one entry "
            f"({(1 << INDEX_BITS) - 1}); nothing was written"
        )


def read_error(error: BaseException, endpoints: str) -> EventStoreError:
    return translate(error, "read of the feed", endpoints)
