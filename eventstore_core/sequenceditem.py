"""The persistence model shared by mapper and active record strategies.

A sequenced item is a namedtuple whose four fields are, in order: the identity of a sequence,
a position in it, a topic (which class of event it is) and the data (the encoded, perhaps
encrypted, state). Field names are free; their order is what matters.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from uuid import UUID


class SequencedItem(NamedTuple):
    """The library's default sequenced item."""

    sequence_id: UUID
    position: Any
    topic: str
    data: str


class StoredEvent(NamedTuple):
    """The same four fields, named for domain events of aggregates."""

    originator_id: UUID
    originator_version: Any
    event_type: str
    state: str


class SequencedItemFieldNames:
    """Reads the names of the four fields of any sequenced item namedtuple class."""

    def __init__(self, sequenced_item_class: type[tuple[Any, ...]]) -> None:
        fields = getattr(sequenced_item_class, "_fields", None)
        if not fields or len(fields) < 4:
            raise TypeError(
                f"sequenced_item_class must be a namedtuple with at least four fields "
                f"(sequence id, position, topic, data); got {sequenced_item_class!r}"
            )
        self.sequence_id, self.position, self.topic, self.data = fields[:4]
        self.other_names: tuple[str, ...] = tuple(fields[4:])
