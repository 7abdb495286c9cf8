"""Settling a conditional write whose outcome the driver could not tell.

A lightweight transaction that times out (``WriteTimeout`` with write type CAS, or
``CAS_WRITE_UNKNOWN``), or whose connection dropped, or that the client stopped waiting for,
may or may not have been applied. Reporting it as failed could make the caller write the
events again elsewhere; reporting it as done could lose them. So the positions are read back
at SERIAL consistency. A serial read runs a Paxos round of its own: it completes a proposal
that was accepted but not yet committed, and (since Cassandra 4.0, CASSANDRA-12126) makes sure
that a proposal it did not see can never be completed later. What it returns is final:

* every position holds exactly our item: the write was applied -> return normally;
* a position holds a different item: another writer got there -> ``ConcurrencyError``;
* none of the positions holds anything: the write was not applied and never will be ->
  ``DatastoreError`` saying so (retrying the same append is safe);
* the read-back itself fails (the cluster is still unreachable) -> ``OutcomeUnknownError``:
  the caller must read the sequence before deciding whether to retry.

"Exactly our item" compares topic and data: an identical item written by another writer at
the same position would count as ours, which is harmless (the stored state is the same).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from cassandra.cluster import Session
from eventstore_core.exceptions import ConcurrencyError, DatastoreError, OutcomeUnknownError

from .errors import describe
from .statements import RecordStatements

#: Pauses between attempts of the read-back (a failed read-back is retried this many times).
READ_BACK_PAUSES = (0.25, 1.0)


def settle(
    session: Session,
    statements: RecordStatements,
    items: Sequence[Any],
    error: BaseException,
    serial_consistency: int,
    endpoints: str,
) -> None:
    """Return if ``items`` were stored by the failed write, else raise what happened."""
    sequence_id = items[0][0]
    positions = [item[1] for item in items]
    what = f"append of {_positions_text(positions)} of sequence {sequence_id}"
    try:
        stored = _read_back(session, statements, sequence_id, positions, serial_consistency)
    except Exception as read_error:
        raise OutcomeUnknownError(
            f"{what}: the outcome is unknown: the write failed with {describe(error)} and "
            f"reading the positions back at Cassandra {endpoints} failed too "
            f"({describe(read_error)}). It may or may not have been stored: read the sequence "
            f"before retrying"
        ) from error
    mine = [item for item in items if stored.get(item[1]) == (item[2], item[3])]
    if len(mine) == len(items):
        return
    taken = [
        item[1] for item in items if item[1] in stored and stored[item[1]] != (item[2], item[3])
    ]
    if taken:
        raise ConcurrencyError(
            f"{what}: {_positions_text(taken)} already taken by another writer "
            f"(found by reading back after {describe(error)})"
        ) from error
    if not mine:
        raise DatastoreError(
            f"{what} failed on Cassandra at {endpoints} ({describe(error)}); a serial read "
            f"shows it was not applied, so retrying it is safe"
        ) from error
    raise OutcomeUnknownError(  # part of an atomic batch visible: should never happen
        f"{what}: after {describe(error)} only {len(mine)} of {len(items)} items are visible; "
        f"read the sequence before retrying"
    ) from error


def _read_back(
    session: Session,
    statements: RecordStatements,
    sequence_id: Any,
    positions: Sequence[Any],
    serial_consistency: int,
) -> dict[Any, tuple[str, str]]:
    """Position -> (topic, data) of what is stored between our lowest and highest position."""
    statement = statements.select_positions().bind((sequence_id, min(positions), max(positions)))
    statement.consistency_level = serial_consistency
    for pause in (*READ_BACK_PAUSES, None):
        try:
            rows = session.execute(statement)
            return {row[0]: (row[1], row[2]) for row in rows}
        except Exception:
            if pause is None:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def _positions_text(positions: Sequence[Any]) -> str:
    shown = ", ".join(str(position) for position in positions[:5])
    more = f" (and {len(positions) - 5} more)" if len(positions) > 5 else ""
    return ("position " if len(positions) == 1 else "positions ") + shown + more
