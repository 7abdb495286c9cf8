"""The one exception hierarchy of the project.

Every backend translates its driver's errors into these, so an application catches
``ConcurrencyError`` or ``DatastoreError`` whatever database is underneath.
"""

from __future__ import annotations

from typing import Any


class EventStoreError(Exception):
    """Base class of every error raised by eventstore and its plugins."""


class ConcurrencyError(EventStoreError):
    """A position of a sequence is already taken: another writer got there first.

    Nothing was written by the failed call; what was stored before is unchanged.
    """


class WrongExpectedVersionError(ConcurrencyError):
    """The sequence was not as ``append(..., expected_version=...)`` expected: nothing was written.

    ``sequence_id``, ``expected`` (``NO_STREAM``, ``STREAM_EXISTS`` or a position) and
    ``found`` (the last position of the sequence, or None if it has no items) say why.
    """

    def __init__(self, message: str, sequence_id: Any = None, expected: Any = None,
                 found: Any = None) -> None:
        super().__init__(message)
        self.sequence_id = sequence_id
        self.expected = expected
        self.found = found


class _UnreadableItem(EventStoreError):
    """An error about one stored item, with where it is: ``sequence_id`` and ``position``
    (None when not about an item read back), and ``global_position`` when it was met in
    the global order (``read_all``, a catch-up subscription), else None."""

    def __init__(self, message: str = "", *, sequence_id: Any = None, position: Any = None,
                 global_position: int | None = None) -> None:
        super().__init__(message)
        self.sequence_id = sequence_id
        self.position = position
        self.global_position = global_position


class DataIntegrityError(_UnreadableItem):
    """Stored data is corrupt, was altered, or cannot be decrypted with the given key.

    Met in the feed (an ``OrderedItem`` given to ``event_of``), it names the item's global
    position, also its attribute ``global_position``: a subscriber resumes after it with
    ``CatchUpSubscription(strategy, after=error.global_position)`` to skip it.
    """


class TopicResolutionError(_UnreadableItem):
    """A topic (``module#QualifiedName``) names no class that can be imported (read back:
    with ``sequence_id``, ``position`` and ``global_position``, as ``DataIntegrityError``)."""


class ConfigurationError(EventStoreError):
    """Bad options, or an unknown or missing plugin."""


class UnsupportedFeatureError(ConfigurationError, NotImplementedError):
    """The backend (or the item class of the store) lacks a feature the call asks for: an
    expected version, an event id, metadata, a string sequence id or a category read. The
    message names the capability (``eventstore_core.capabilities``); nothing was written."""


class DatastoreError(EventStoreError):
    """The database cannot be reached, set up or used."""


class OutcomeUnknownError(DatastoreError):
    """A write may or may not have been applied, and the backend could not find out which.

    Raised, for example, when a Cassandra lightweight transaction times out and the position
    cannot be read back. The caller should read the sequence before retrying.
    """


class InvalidEventError(EventStoreError, ValueError):
    """An event or item cannot be stored as given (missing attribute, wrong type, ...)."""


class EncodingError(InvalidEventError, TypeError):
    """An attribute value cannot be encoded by the codec."""


class ItemNotFound(EventStoreError, KeyError):
    """No item is stored at the requested position of a sequence."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain message
        return str(self.args[0]) if self.args else ""
