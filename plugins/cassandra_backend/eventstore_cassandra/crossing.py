"""A list of items that crosses a partition boundary: one commit point, one LWT.

A split table (see ``layout``) puts position ``p`` of a sequence in partition
``floor(p / size)``. A list that stays in one partition is one conditional batch, as always
(atomic, all or nothing). A list that crosses a boundary cannot be: a conditional batch is
limited to one partition. It is written so that it becomes visible at one single write, the
*commit point*, and is invisible before it:

1. Its rows are written partition by partition, lowest first, each part one conditional
   batch (``IF NOT EXISTS``, so a taken position is still found by Paxos), every row
   carrying ``append_id`` (random, 63 bits) and ``append_head`` (the list's lowest
   position). The *head* row (at ``append_head``, in the first part) also has
   ``append_state = 'pending'``.
2. The commit point: ``UPDATE ... SET append_state = 'committed' IF append_id = <ours> AND
   append_state = 'pending'`` on the head row (one LWT, on one row).

The rule every reader applies (``get_items``, ``all_items`` and the feed): a row without
``append_id`` is visible; a row with one is visible exactly when the head row of its append
exists, carries the same ``append_id`` and is ``committed``. So before the commit LWT no row
of the list is visible, after it every row is: all or nothing, at one instant fixed by Paxos.

A position held by an append that is not committed must not stay taken forever (its writer
may have died). A writer whose conditional write finds such rows *voids* that append (the
same LWT on its head: ``SET append_state = 'voided' IF append_id = <theirs> AND append_state
= 'pending'``), deletes the rows in its way (``DELETE ... IF append_id = <theirs>``), and
writes again. Commit and void are both conditional on ``pending``, so Paxos lets exactly one
of them happen: a voided append can never commit (its writer gets ``ConcurrencyError``, and
nothing of it was ever visible), a committed one is never voided (the other writer gets
``ConcurrencyError``: the positions are taken). A head row that is missing (deleted by a
writer that voided it) counts as voided.

Which step can fail, and what readers see:

* the writer dies during or after step 1, before step 2: nothing of the list is visible; its
  rows hold their positions until another writer meets them and voids the append (or the
  same writer's retry does: its new attempt has a new ``append_id``);
* a part of step 1 finds a position taken by a committed row: the writer voids its own
  append, deletes what it wrote (best effort; leftovers are invisible and voidable) and
  raises ``ConcurrencyError``: nothing was written;
* any other failure before step 2 (including an outcome the driver could not tell): the
  append is not committed and never will be (only its writer commits, and it stops), so the
  error says nothing was written;
* step 2 is not applied: another writer voided the append first: ``ConcurrencyError``;
* step 2's outcome is unknown: the commit is proposed again; ``committed`` with our id ->
  done; ``voided`` or missing -> ``ConcurrencyError``; failing again -> ``OutcomeUnknownError``.

The feed (see ``feed``) announces a crossing list like any other, one entry, and finds its
items through the head row: an entry delivers the rows of a crossing append when the head
row carries the entry's ``feed_id`` and is committed; re-announcing moves only the head.
An append stays within one partition whenever it can: this protocol costs one LWT per part
plus the commit, and only lists that cross a boundary pay it (one list per boundary at most,
so once per ``size`` positions).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from cassandra.query import BatchStatement, BatchType
from eventstore_core.exceptions import (
    ConcurrencyError,
    DatastoreError,
    EventStoreError,
    OutcomeUnknownError,
)

from .errors import describe, is_outcome_unknown, translate
from .outcome import PROPOSE_AGAIN_PAUSES, SETTLE_TIMEOUT, jittered, settle
from .statements import RecordStatements
from .steps import Execute, ExecuteAll, Sleep, Steps

log = logging.getLogger(__name__)

PENDING, COMMITTED, VOIDED = "pending", "committed", "voided"
#: Times a write voids unfinished appends in its way and tries again.
WOUND_TRIES = 3

_APPEND_ID = itemgetter(3)


# -- reading --------------------------------------------------------------------------------
def visible(statements: RecordStatements, sequence_id: Any,
            rows: Sequence[Any]) -> Steps[Sequence[Any]]:
    """The rows (as ``row_columns`` selects them: position, topic, data, append id) that
    readers may see: no append id, or an append whose head row is committed."""
    if not any(map(_APPEND_ID, rows)):  # (append ids are never 0)
        return rows
    marked = [row for row in rows if row[3] is not None]
    mark = statements.marks()
    answers = yield ExecuteAll([
        mark.bind((*statements.key(sequence_id, row[0]), row[0])) for row in marked])
    states: dict[tuple[Any, int], str | None] = {}
    heads: dict[Any, tuple[Any, int]] = {}
    for row, answer in zip(marked, answers, strict=True):
        found = answer.current_rows
        if not found or found[0][0] != row[3]:
            continue  # voided and deleted since: not shown
        append_id, head, state = found[0]
        heads[row[0]] = (head, append_id)
        if row[0] == head:
            states[(head, append_id)] = state
    missing = sorted({key for key in heads.values() if key not in states},
                     key=lambda key: key[0])
    if missing:
        states.update((yield from head_states(statements, sequence_id, missing)))
    return [row for row in rows if row[3] is None
            or (row[0] in heads and states.get(heads[row[0]]) == COMMITTED)]


def head_states(statements: RecordStatements, sequence_id: Any,
                heads: Sequence[tuple[Any, int]]) -> Steps[dict[tuple[Any, int], str | None]]:
    """The state of each append ``(head position, append id)``; None: missing (voided)."""
    head = statements.head()
    answers = yield ExecuteAll([
        head.bind((*statements.key(sequence_id, position), position)) for position, _ in heads])
    states: dict[tuple[Any, int], str | None] = {}
    for (position, append_id), answer in zip(heads, answers, strict=True):
        rows = answer.current_rows
        found = rows[0] if rows else None
        states[(position, append_id)] = (
            found[1] if found is not None and found[0] == append_id else None)
    return states


# -- unfinished appends in the way -------------------------------------------------------
@dataclass(frozen=True)
class Blocker:
    """An append that is not committed, and the positions of its rows in our way."""

    head: Any
    append_id: int
    positions: tuple[Any, ...]


def blockers(statements: RecordStatements, sequence_id: Any, column_names: Any,
             rows: Sequence[Any], position_column: str) -> Steps[list[Blocker] | None]:
    """The unfinished appends whose rows a "not applied" conditional insert found, or None
    if a row it found is visible (a committed or plain row: the position is taken)."""
    names = list(column_names or ())
    found: dict[tuple[Any, int], list[Any]] = {}
    known: dict[tuple[Any, int], str | None] = {}
    for row in rows:
        values = dict(zip(names, row, strict=False))
        position = values.get(position_column)
        if position is None:
            continue
        append_id = values.get("append_id")
        if append_id is None:
            return None
        key = (values.get("append_head"), append_id)
        found.setdefault(key, []).append(position)
        if position == key[0]:
            known[key] = values.get("append_state")
    if not found:
        return None
    unknown = [key for key in found if key not in known]
    if unknown:
        known.update((yield from head_states(statements, sequence_id, unknown)))
    if any(known[key] == COMMITTED for key in found):
        return None
    return [Blocker(head, append_id, tuple(positions))
            for (head, append_id), positions in found.items()]


def void_and_clear(statements: RecordStatements, sequence_id: Any,
                   in_the_way: Sequence[Blocker]) -> Steps[bool]:
    """Void each append (unless committed meanwhile) and delete its rows in our way. False
    if one of them was committed first (its positions are taken)."""
    set_state = statements.set_state()
    answers = yield ExecuteAll([
        set_state.bind((VOIDED, *statements.key(sequence_id, blocker.head), blocker.head,
                        blocker.append_id, PENDING)) for blocker in in_the_way])
    for blocker, answer in zip(in_the_way, answers, strict=True):
        values = dict(zip(list(answer.column_names or ()), answer.current_rows[0], strict=False))
        # (a head row of another append at that position: this one is gone for good)
        if values.get("append_id") == blocker.append_id and values.get(
                "append_state") == COMMITTED:
            return False
    yield ExecuteAll([_deletes(statements, sequence_id, blocker.append_id, blocker.positions)
                      for blocker in in_the_way])
    return True


def _deletes(statements: RecordStatements, sequence_id: Any, append_id: int,
             positions: Sequence[Any]) -> BatchStatement:
    """One conditional batch deleting rows of one append in one partition."""
    delete = statements.delete_pending()
    batch = BatchStatement(batch_type=BatchType.UNLOGGED)
    for position in positions:
        batch.add(delete.bind((*statements.key(sequence_id, position), position, append_id)))
    return batch


# -- writing a list across partitions ----------------------------------------------------
def append_across(
    statements: RecordStatements,
    items: Sequence[Any],
    feed_id: int | None,
    endpoints: str,
    request_timeout: float,
    column_names: Sequence[str],
    step: Callable[[str], None] = lambda _: None,
) -> Steps[None]:
    """Write ``items`` (one sequence, more than one partition) as described above.
    ``step("part written")`` is called after each part, ``step("committed")`` after the
    commit (tests stop a writer there)."""
    sequence_id = items[0][0]
    layout = statements.layout
    parts: dict[int, list[Any]] = {}
    for item in sorted(items, key=lambda item: item[1]):
        parts.setdefault(layout.partition(item[1]), []).append(item)
    append_id = secrets.randbits(62) + 1  # never 0 (see ``visible``)
    head = min(item[1] for item in items)
    insert = statements.insert_pending()
    what = (f"append of {len(items)} items to sequence {sequence_id} across "
            f"{len(parts)} partitions")
    written: list[list[Any]] = []
    try:
        for part in (parts[number] for number in sorted(parts)):
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            for item in part:
                batch.add(insert.bind((
                    *statements.key(sequence_id, item[1]), item[1], item[2], item[3], feed_id,
                    append_id, head, PENDING if item[1] == head else None)))
            written.append(part)
            yield from _write_part(statements, batch, part, feed_id, endpoints, request_timeout,
                                   column_names)
            step("part written")
    except Exception as error:
        yield from _abandon(statements, sequence_id, append_id, head, written)
        if isinstance(error, EventStoreError) and not isinstance(error, OutcomeUnknownError):
            raise
        raise DatastoreError(
            f"{what}: {describe(error)} before its commit; nothing of it was written (it "
            f"was not committed, and never will be)"
        ) from error
    yield from _commit(statements, sequence_id, append_id, head, what, endpoints,
                       request_timeout, written)
    step("committed")


def _write_part(statements: RecordStatements, batch: BatchStatement, part: Sequence[Any],
                feed_id: int | None, endpoints: str, request_timeout: float,
                column_names: Sequence[str]) -> Steps[None]:
    """One part's conditional batch; unfinished appends in the way are voided first."""
    sequence_id = part[0][0]
    for attempt in range(WOUND_TRIES + 1):
        try:
            result = yield Execute(batch)
        except Exception as error:
            if is_outcome_unknown(error):
                yield from settle(batch, part, feed_id, error, endpoints, request_timeout,
                                  column_names)
                return
            raise
        rows = result.current_rows
        if not rows or rows[0][0]:
            return
        if attempt < WOUND_TRIES:
            in_the_way = yield from blockers(statements, sequence_id, result.column_names,
                                             rows, column_names[1])
            if in_the_way and (yield from void_and_clear(statements, sequence_id, in_the_way)):
                continue
        break
    positions = ", ".join(str(item[1]) for item in part[:10])
    raise ConcurrencyError(
        f"a position among {positions} of sequence {sequence_id} is already taken; nothing "
        f"of this append was written"
    )


def _commit(statements: RecordStatements, sequence_id: Any, append_id: int, head: Any,
            what: str, endpoints: str, request_timeout: float,
            written: list[list[Any]]) -> Steps[None]:
    """The commit point; see the module's text for what each answer means."""
    commit = statements.set_state().bind(
        (COMMITTED, *statements.key(sequence_id, head), head, append_id, PENDING))
    first_error: BaseException | None = None
    for pause in (None, *PROPOSE_AGAIN_PAUSES, None):
        try:
            result = yield Execute(
                commit, timeout=None if first_error is None
                else max(request_timeout, SETTLE_TIMEOUT))
        except Exception as error:
            if first_error is None and not is_outcome_unknown(error):
                yield from _abandon(statements, sequence_id, append_id, head, written)
                raise translate(error, f"{what} (nothing of it was written: its commit failed)",
                                endpoints) from error
            first_error = first_error or error
            if pause is not None:
                yield Sleep(jittered(pause))
            continue
        row = result.current_rows[0]
        if row[0]:
            return
        names = list(result.column_names or ())
        values = dict(zip(names, row, strict=False))
        if values.get("append_id") == append_id and values.get("append_state") == COMMITTED:
            return  # our first commit had been applied
        yield from _abandon(statements, sequence_id, append_id, head, written)
        raise ConcurrencyError(
            f"{what}: another writer took one of its positions before it committed; nothing "
            f"of it was written"
        )
    assert first_error is not None  # the loop ends here only after failures
    raise OutcomeUnknownError(
        f"{what}: the outcome is unknown: its commit failed with {describe(first_error)} and "
        f"proposing it again at Cassandra {endpoints} failed too. It may or may not have been "
        f"stored: read the sequence before retrying"
    ) from first_error


def _abandon(statements: RecordStatements, sequence_id: Any, append_id: int, head: Any,
             written: list[list[Any]]) -> Steps[None]:
    """Void our own append and delete its rows, best effort (what is left is invisible and
    is voided again by whoever meets it)."""
    try:
        yield Execute(statements.set_state().bind(
            (VOIDED, *statements.key(sequence_id, head), head, append_id, PENDING)))
        if written:
            yield ExecuteAll([_deletes(statements, sequence_id, append_id,
                                       [item[1] for item in part]) for part in written])
    except Exception as error:
        log.info("leaving the rows of an abandoned append to sequence %s to be voided "
                 "later: %s", sequence_id, describe(error))
