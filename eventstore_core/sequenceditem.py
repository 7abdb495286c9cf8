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


class EnvelopedItem(NamedTuple):
    """A sequenced item with an event id and metadata beside the four fields.

    Stored by backends that declare the ``event_ids`` (and ``metadata``) capabilities, as
    the record kind ``"enveloped"``. ``event_id`` identifies the event (an append of an item
    already stored at its position with the same id writes nothing); ``metadata`` is the
    mapping the mapper encoded (``""``: none), readable without decoding ``data``.
    """

    sequence_id: UUID | str
    position: Any
    topic: str
    data: str
    event_id: UUID
    metadata: str = ""


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
        #: Whether items carry an event id and metadata (fields 5 and 6 named ``event_id``
        #: and ``metadata``, as ``EnvelopedItem``'s).
        self.enveloped = tuple(fields[4:6]) == ("event_id", "metadata")
