"""Named streams, expected versions and envelopes: what ``append`` and the reads take.

* ``ANY``, ``NO_STREAM``, ``STREAM_EXISTS``: the expected versions that are not a position
  (``append(events, expected_version=...)``; an int or timestamp is the exact position of
  the last event of the sequence).
* ``Envelope(event, metadata, event_id)``: an event with what travels beside it, so that
  metadata never becomes an attribute of the event.
* ``category_of(sequence_id)``: the category of a named stream, the part of its name before
  the first ``-`` (``"order-1234"`` is in category ``"order"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from uuid import UUID

#: How long a stream name (a string sequence id) may be, in characters, on every backend.
MAX_STREAM_NAME = 255
#: What separates a stream's category from the rest of its name.
CATEGORY_SEPARATOR = "-"


class StreamState:
    """One of the expected versions that are not a position (there are three)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:  # pickled (to a child process) as the same object
        return self.name


#: No expectation: the positions of the items decide (the default, as before).
ANY: Final = StreamState("ANY")
#: The sequence must have no item yet.
NO_STREAM: Final = StreamState("NO_STREAM")
#: The sequence must have at least one item.
STREAM_EXISTS: Final = StreamState("STREAM_EXISTS")



@dataclass(frozen=True, slots=True)
class Envelope:
    """An event and what is stored beside it: a metadata mapping (correlation id, causation
    id, ``traceparent``, anything the application adds) and the event id.

    Append envelopes instead of events (or mixed with them) to give metadata or your own
    event id (None: the event's ``event_id`` attribute if it is a UUID, else a new uuid4);
    ``EventStore.get_envelopes`` reads them back. Needs a store of ``EnvelopedItem``.
    """

    event: Any
    metadata: Mapping[str, Any] = field(default_factory=dict)
    event_id: UUID | None = None


def category_of(sequence_id: Any) -> str | None:
    """The category of a named stream (the part before the first ``-``), or None for a UUID
    or a name without ``-``."""
    if type(sequence_id) is not str:
        return None
    category, separator, _ = sequence_id.partition(CATEGORY_SEPARATOR)
    return category if separator else None


def describe_expected(expected: Any) -> str:
    """``expected`` in words, for messages."""
    if expected is NO_STREAM:
        return "no stream (NO_STREAM)"
    if expected is STREAM_EXISTS:
        return "an existing stream (STREAM_EXISTS)"
    return f"last position {expected!r}"


def describe_found(found: Any) -> str:
    """What a sequence was found to be, in words: its last position, or no item."""
    return "no item" if found is None else f"last position {found!r}"
