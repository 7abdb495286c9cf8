"""What the fault suite counts: every attempt's reported outcome against what is stored.

An attempt is a call to ``append`` of one list. Its outcome as the store reported it is one of:

* ``ok``: acknowledged; the whole list must be stored (else it is *lost*);
* ``not_written``: ``ConcurrencyError`` or a ``DatastoreError`` that is not
  ``OutcomeUnknownError``; nothing of it may be stored (else the outcome was *wrong*);
* ``unknown``: ``OutcomeUnknownError``, or a writer killed before it got an answer; the list
  may be stored or not, but only whole;
* ``other``: any exception that is not the project's: a *wrong* outcome in itself.

Whatever the outcome, a list stored in part is *partial*, and a position (or global position)
met twice is *duplicated*. ``Report.line()`` is the one-line summary each case prints;
``REPORTS`` collects them for the end of the test run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("ok", "not_written", "unknown", "other")

#: Every report of this run, printed again in the terminal summary (see ``conftest``).
REPORTS: list[str] = []


@dataclass
class Attempt:
    key: str
    items: list[Any]
    outcome: str = "unknown"  # one of OUTCOMES
    message: str = ""
    in_flight: bool = False  # the writer was killed before it got an answer


def as_tuple(item: Any) -> tuple[Any, ...]:
    return tuple(item)


@dataclass
class Report:
    case: str
    attempted: int = 0
    acknowledged: int = 0
    not_written: int = 0
    unknown: int = 0
    killed_in_flight: int = 0
    lost: int = 0
    partial: int = 0
    duplicated: int = 0
    wrong: int = 0
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: Attempts reported as not written that are stored (each also counts in ``wrong``).
    stored_but_reported_not_written: list[Attempt] = field(default_factory=list)

    def line(self) -> str:
        figures = (
            f"attempted={self.attempted} acknowledged={self.acknowledged} "
            f"not_written={self.not_written} unknown={self.unknown} "
            f"killed_in_flight={self.killed_in_flight} lost={self.lost} "
            f"partial={self.partial} duplicated={self.duplicated} wrong={self.wrong}"
        )
        more = "".join(f" {name}={value}" for name, value in self.extra.items())
        return f"FAULTS {self.case}: {figures}{more}"

    def publish(self) -> None:
        line = self.line()
        print(line)
        REPORTS.append(line)

    def check(self) -> None:
        """Publish the line, then fail if anything was lost, partial, doubled or wrong."""
        self.publish()
        details = f"{self.line()}\n" + "\n".join(self.notes[:8])
        bad = {"lost": self.lost, "partial": self.partial, "duplicated": self.duplicated}
        assert not any(bad.values()), details
        assert not self.wrong, details

    def note(self, kind: str, attempt: Attempt | None, detail: str) -> None:
        where = f"{attempt.key} ({attempt.outcome}: {attempt.message[:300]})" if attempt else ""
        self.notes.append(f"{kind}: {where} {detail}")


def tally(
    case: str,
    attempts: Iterable[Attempt],
    stored_of: Callable[[Attempt], list[Any]],
) -> Report:
    """Compare each attempt's outcome with ``stored_of(attempt)``: the items stored now that
    came from that attempt (and only from it)."""
    report = Report(case)
    for attempt in attempts:
        report.attempted += 1
        report.killed_in_flight += attempt.in_flight
        if attempt.outcome == "ok":
            report.acknowledged += 1
        elif attempt.outcome == "not_written":
            report.not_written += 1
        elif attempt.outcome == "unknown":
            report.unknown += 1
        stored = sorted(as_tuple(item) for item in stored_of(attempt))
        expected = sorted(as_tuple(item) for item in attempt.items)
        whole, absent = stored == expected, not stored
        if not whole and not absent:
            report.partial += 1
            report.note("partial", attempt, f"{len(stored)} of {len(expected)} stored")
        if attempt.outcome == "ok" and absent:
            report.lost += 1
            report.note("lost", attempt, "acknowledged, but nothing of it is stored")
        elif attempt.outcome == "not_written" and not absent:
            report.wrong += 1
            report.stored_but_reported_not_written.append(attempt)
            report.note("wrong", attempt, "reported as not written, but it is stored")
        elif attempt.outcome == "other":
            report.wrong += 1
            report.note("wrong", attempt, "not one of the project's exceptions")
    return report


def count_doubles(keys: Iterable[Any]) -> tuple[int, list[Any]]:
    """How many keys occur more than once (each extra occurrence counts), and which."""
    counts = Counter(keys)
    doubled = [key for key, number in counts.items() if number > 1]
    return sum(counts[key] - 1 for key in doubled), doubled


def attempt_key(item: Any) -> str | None:
    """The attempt a stored item of ``fault_writer`` came from (None if it is not one)."""
    try:
        return str(json.loads(item[3])["attempt"])
    except (ValueError, KeyError, TypeError):
        return None
