"""A writer process for the fault suite: appends lists of items until told to stop.

    python fault_writer.py URI LOG NAME STOP_FILE SEQUENCE_ID...

Each attempt appends ``LIST_SIZE`` items at the next free positions of one of the given
sequences (chosen at random, so writers compete). Before the call it writes
``try NAME:N SEQUENCE FIRST SIZE`` to ``LOG``, after it one of ``ok``, ``conflict``
(``ConcurrencyError``: nothing written), ``failed`` (``DatastoreError``: nothing written),
``unknown`` (``OutcomeUnknownError``) or ``other`` (anything else), with ``NAME:N``. Each item's
state names its attempt, so the checker can tell which attempt every stored item came from.
A writer that is killed leaves its last attempt without an outcome: that one may be stored
or not, but only whole. It stops when ``STOP_FILE`` exists.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from uuid import UUID

from eventstore_core.exceptions import ConcurrencyError, DatastoreError, OutcomeUnknownError
from eventstore_core.sequenceditem import SequencedItem

TOPIC = "eventstore_core.events#DomainEvent"
LIST_SIZE = 3


def attempt_items(sequence_id: UUID, first: int, key: str) -> list[SequencedItem]:
    """The items of one attempt: their state names the attempt and the position."""
    return [
        SequencedItem(sequence_id, p, TOPIC, json.dumps({"attempt": key, "p": p}))
        for p in range(first, first + LIST_SIZE)
    ]


def main(uri: str, log_path: str, name: str, stop_file: str, sequences: list[str]) -> None:
    from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy

    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def note(line: str) -> None:
        os.write(log, (line.replace("\n", " ") + "\n").encode())

    sequence_ids = [UUID(s) for s in sequences]
    strategy: SQLAlchemyActiveRecordStrategy[SequencedItem] = SQLAlchemyActiveRecordStrategy(
        uri=uri
    )
    note(f"ready {name}")
    stop = Path(stop_file)
    number = 0
    while not stop.exists():
        sequence_id = random.choice(sequence_ids)
        try:
            last = strategy.get_items(sequence_id, limit=1, is_ascending=False)
        except DatastoreError:
            time.sleep(0.05)  # the server is down: not an attempt yet
            continue
        first = last[0].position + 1 if last else 0
        number += 1
        key = f"{name}:{number}"
        note(f"try {key} {sequence_id} {first} {LIST_SIZE}")
        try:
            strategy.append(attempt_items(sequence_id, first, key))
        except ConcurrencyError as error:
            note(f"conflict {key} {error}")
        except OutcomeUnknownError as error:
            note(f"unknown {key} {error}")
            time.sleep(0.05)
        except DatastoreError as error:
            note(f"failed {key} {error}")
            time.sleep(0.05)
        except Exception as error:  # reported as a wrong outcome by the checker
            note(f"other {key} {error!r}")
        else:
            note(f"ok {key}")
    strategy.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
