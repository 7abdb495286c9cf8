"""Settling a conditional write whose outcome the driver could not tell.

A lightweight transaction that times out (``WriteTimeout`` with write type CAS, or
``CAS_WRITE_UNKNOWN``), or whose connection dropped, or that the client stopped waiting for,
may or may not have been applied. Reporting it as failed could make the caller write the
events again elsewhere; reporting it as done could lose them.

Reading the positions back does not settle it: a SERIAL read completes a Paxos round that
is under way, but a request the client gave up on may not have reached Paxos yet (it can
still be queued on its coordinator) and be applied a moment after the read found nothing.
So the same conditional write is proposed again, with the same rows and the same feed id.
Paxos orders the two proposals; whichever comes first writes the rows, the other finds them.
The answer to the second proposal is final:

* applied: the rows are stored now (by this proposal; the first one, if it arrives later,
  finds them and changes nothing) -> return normally;
* not applied, and every row it returns is ours (same topic, data and feed id): the first
  proposal had been applied -> return normally;
* not applied, and a row belongs to another writer -> ``ConcurrencyError`` (the first proposal
  was not applied either: an atomic batch is all or nothing);
* the second proposal fails too (after a few attempts): ``OutcomeUnknownError``, the only case
  the caller must settle by reading the sequence before deciding to retry.

"Not applied" is never reported after an unknown outcome: it cannot be proven.

``settle`` is a step function (see ``steps``): the sync and the async strategy run the same
settling, one with blocking calls, the other awaiting.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from eventstore_core.exceptions import ConcurrencyError, OutcomeUnknownError

from .errors import describe
from .records import FEED_COLUMN
from .steps import Execute, Sleep, Steps

#: Pauses between attempts of the second proposal (so it is tried len + 1 times), each
#: stretched by a random factor (``jittered``): writers racing for one partition all meet
#: Paxos contention at once, and would otherwise all propose again at the same moments.
#: Three attempts in all: with two of three nodes down, each attempt may wait out its
#: timeout, and an append must still fail within seconds.
PROPOSE_AGAIN_PAUSES = (0.25, 1.0)
#: The least time one attempt of the second proposal is given (a request timeout of a few
#: milliseconds would otherwise make every settling attempt time out as well).
SETTLE_TIMEOUT = 2.0


def jittered(pause: float) -> float:
    """``pause`` times a random factor between 0.5 and 1.5."""
    return pause * (0.5 + random.random())


def settle(
    statement: Any,
    items: Sequence[Any],
    feed_id: int | None,
    error: BaseException,
    endpoints: str,
    request_timeout: float,
    column_names: Sequence[str],
) -> Steps[None]:
    """Return if ``items`` are stored (by the failed write or now), else raise what happened."""
    sequence_id = items[0][0]
    what = f"append of {_positions_text([item[1] for item in items])} of sequence {sequence_id}"
    last: BaseException = error
    for pause in (*PROPOSE_AGAIN_PAUSES, None):
        try:
            result = yield Execute(statement, timeout=max(request_timeout, SETTLE_TIMEOUT))
        except Exception as again:
            last = again
            if pause is not None:
                yield Sleep(jittered(pause))
            continue
        rows = result.current_rows
        if not rows or rows[0][0]:
            return  # applied by this proposal
        found = _stored(result.column_names, rows, column_names)
        ours = {item[1]: (item[2], item[3], feed_id) for item in items}
        theirs = [position for position, row in found.items() if ours.get(position) != row]
        if theirs:
            raise ConcurrencyError(
                f"{what}: {_positions_text(theirs)} already taken by another writer "
                f"(found by proposing the write again after {describe(error)})"
            ) from error
        if len(found) == len(items):
            return  # the first proposal had been applied
        raise OutcomeUnknownError(  # part of an atomic batch visible: should never happen
            f"{what}: after {describe(error)} only {len(found)} of {len(items)} items are "
            f"visible; read the sequence before retrying"
        ) from error
    raise OutcomeUnknownError(
        f"{what}: the outcome is unknown: the write failed with {describe(error)} and "
        f"proposing it again at Cassandra {endpoints} failed too ({describe(last)}). It may "
        f"or may not have been stored: read the sequence before retrying"
    ) from error


def _stored(
    columns: Sequence[str] | None, rows: Sequence[Any], record_columns: Sequence[str]
) -> dict[Any, tuple[Any, ...]]:
    """Position -> (topic, data, feed id) of the rows a "not applied" answer returns."""
    names = list(columns or ())
    _, position, topic, data = record_columns
    found: dict[Any, tuple[Any, ...]] = {}
    for row in rows:
        values = dict(zip(names, row, strict=False))
        if values.get(position) is not None:
            found[values[position]] = (values.get(topic), values.get(data), values.get(FEED_COLUMN))
    return found


def _positions_text(positions: Sequence[Any]) -> str:
    shown = ", ".join(str(position) for position in positions[:5])
    more = f" (and {len(positions) - 5} more)" if len(positions) > 5 else ""
    return ("position " if len(positions) == 1 else "positions ") + shown + more
