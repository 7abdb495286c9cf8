"""The event store: maps domain events to sequenced items and hands them to a backend."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, Self

from .activerecordstrategy import DEFAULT_PAGE_SIZE, AbstractActiveRecordStrategy, OrderedItem
from .eventkinds import is_event_object
from .exceptions import DataIntegrityError, InvalidEventError, TopicResolutionError
from .sequenceditemmapper import SequencedItemMapper
from .streams import ANY, Envelope
from .telemetry import current_traceparent


class BaseEventStore:
    """What ``EventStore`` and ``AsyncEventStore`` share: the mapper, the strategy, assembly
    from plugins, and the mapping of each method's arguments and results (written once)."""

    #: Whether ``from_config`` builds the backend's async strategy (its ``async_factory``).
    asynchronous: ClassVar[bool] = False

    def __init__(
        self,
        sequenced_item_mapper: SequencedItemMapper[Any],
        active_record_strategy: Any,
    ) -> None:
        self.sequenced_item_mapper = sequenced_item_mapper
        self.active_record_strategy = active_record_strategy

    @classmethod
    def from_config(cls, backend: str | None = None, **options: Any) -> Self:
        """Assemble a store from installed plugins, options and ``EVENTSTORE_*`` variables.

        ``backend`` is a backend name (``"sqlalchemy"``) or a configuration string
        (``"postgresql://user@host/db?cipher=aes"``, ``"memory://"``); without it,
        ``EVENTSTORE_URL`` or ``EVENTSTORE_BACKEND``. With nothing given: a store on a SQLite
        file (the embedded default). See ``eventstore_core.assembly`` for every option.
        """
        from .assembly import assemble

        return assemble(cls, backend, options)

    def items_of(self, domain_event_or_events: Any, metadata: Any = None) -> Any:
        """The item, or list of items, that ``append`` hands to the strategy.

        With ``EnvelopedItem`` items, each event's metadata is ``metadata`` (for all the
        events), the ``traceparent`` of the active OpenTelemetry span, and its ``Envelope``'s
        own (which wins)."""
        mapper = self.sequenced_item_mapper
        events = domain_event_or_events
        many = isinstance(events, list | tuple)
        if mapper.enveloped or metadata:
            events = self._enveloped(events if many else [events], metadata)
            if not many:
                events = events[0]
        to_item = mapper.to_sequenced_item
        try:
            return [to_item(e) for e in events] if many else to_item(events)
        except InvalidEventError:
            _refuse_non_events(events if many else [events])
            raise

    @staticmethod
    def _enveloped(events: Any, metadata: Any) -> list[Any]:
        """``events`` as Envelopes with the metadata of this append (events of no metadata
        stay as they are)."""
        if metadata is not None and not isinstance(metadata, Mapping):
            raise InvalidEventError(
                f"metadata must be a mapping, got a {type(metadata).__name__}")
        common = dict(metadata) if metadata else {}
        traceparent = current_traceparent()
        if traceparent is not None:
            common.setdefault("traceparent", traceparent)
        if not common:
            return list(events)
        return [Envelope(e.event, {**common, **e.metadata}, e.event_id)
                if type(e) is Envelope else Envelope(e, common) for e in events]

    def envelopes_of(self, items: Iterable[Any]) -> list[Envelope]:
        """The envelopes (event, metadata, event id) of items read back, in their order
        (``OrderedItem``s as in ``event_of``)."""
        envelope_of = self.envelope_of
        return [envelope_of(item) for item in items]

    def envelope_of(self, item: Any) -> Envelope:
        """The envelope of an item read back (an ``OrderedItem`` as in ``event_of``)."""
        if type(item) is OrderedItem:
            return _in_feed(self.sequenced_item_mapper.envelope_of, item)
        return self.sequenced_item_mapper.envelope_of(item)

    def metadata_of(self, item: Any) -> dict[str, Any]:
        """The metadata of an item read back, without decoding or decrypting its event."""
        if type(item) is OrderedItem:
            return _in_feed(self.sequenced_item_mapper.metadata_of, item)
        return self.sequenced_item_mapper.metadata_of(item)

    def events_of(self, items: Iterable[Any]) -> list[Any]:
        """The events of items read back, in their order (``OrderedItem``s as in
        ``event_of``)."""
        from_item = self.sequenced_item_mapper.from_sequenced_item
        return [from_item(item) if type(item) is not OrderedItem else _in_feed(from_item, item)
                for item in items]

    def event_of(self, item: Any) -> Any:
        """The event of an item read back: a stored item, or an ``OrderedItem`` of the feed
        (``read_all``, a catch-up subscription). A feed item that cannot be read is a
        ``DataIntegrityError`` (or ``TopicResolutionError``) naming its global position,
        and carrying it as ``global_position`` (with ``sequence_id`` and ``position``): resume
        with ``after=error.global_position`` to skip it."""
        if type(item) is OrderedItem:
            return _in_feed(self.sequenced_item_mapper.from_sequenced_item, item)
        return self.sequenced_item_mapper.from_sequenced_item(item)


def _in_feed(read: Any, ordered: OrderedItem) -> Any:
    """``read(ordered.item)``; an unreadable item's error names its global position."""
    try:
        return read(ordered.item)
    except (DataIntegrityError, TopicResolutionError) as error:
        item = ordered.item
        raise type(error)(
            f"item at global position {ordered.global_position}: {error}",
            sequence_id=item[0], position=item[1], global_position=ordered.global_position,
        ) from error


class EventStore(BaseEventStore):
    """Appends and retrieves domain events, using a mapper and an active record strategy."""

    active_record_strategy: AbstractActiveRecordStrategy[Any]

    # -- writing ------------------------------------------------------------------------
    def append(
        self, domain_event_or_events: Any, expected_version: Any = ANY, metadata: Any = None
    ) -> None:
        """Store one event, or a list of events atomically. ``ConcurrencyError`` if taken.

        ``expected_version`` (``NO_STREAM``, ``STREAM_EXISTS`` or the position of the last
        event) is checked with the write: ``WrongExpectedVersionError`` and nothing written
        if the sequence is otherwise. Events may be ``Envelope`` objects; ``metadata`` goes with
        every event (stores of ``EnvelopedItem``). See ``eventstore_core.streams``.
        """
        items = self.items_of(domain_event_or_events, metadata)
        if expected_version is ANY:
            self.active_record_strategy.append(items)
        else:
            self.active_record_strategy.append(items, expected_version)

    # -- reading ------------------------------------------------------------------------
    def get_domain_events(
        self,
        originator_id: Any,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        limit: int | None = None,
        is_ascending: bool = True,
    ) -> list[Any]:
        """Events of one sequence within the bounds, in order; ``limit`` applies after it."""
        return self.events_of(self.active_record_strategy.get_items(
            originator_id, gt=gt, gte=gte, lt=lt, lte=lte, limit=limit, is_ascending=is_ascending
        ))

    def get_envelopes(
        self,
        originator_id: Any,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        limit: int | None = None,
        is_ascending: bool = True,
    ) -> list[Envelope]:
        """As ``get_domain_events``, each event in an ``Envelope`` with its metadata and id."""
        return self.envelopes_of(self.active_record_strategy.get_items(
            originator_id, gt=gt, gte=gte, lt=lt, lte=lte, limit=limit, is_ascending=is_ascending
        ))

    def get_domain_event(self, originator_id: Any, position: Any) -> Any:
        """The event at one position; ``ItemNotFound`` (a ``KeyError``) if there is none."""
        return self.event_of(self.active_record_strategy.get_item(originator_id, position))

    def get_most_recent_event(
        self, originator_id: Any, lt: Any = None, lte: Any = None
    ) -> Any | None:
        """The last event of a sequence (below ``lt`` / at or below ``lte``), or None."""
        events = self.get_domain_events(originator_id, lt=lt, lte=lte, limit=1,
                                                 is_ascending=False)
        return events[0] if events else None

    def all_domain_events(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[Any]:
        """Every stored event of every sequence, read page by page, never all at once."""
        items = self.active_record_strategy.all_items(page_size=page_size)  # checks at once
        return map(self.event_of, items)

    def __iter__(self) -> Iterator[Any]:
        return self.all_domain_events()

    def close(self) -> None:
        """Release the backend's connections."""
        self.active_record_strategy.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _refuse_non_events(events: Any) -> None:
    """``InvalidEventError`` for the first value that is no event object (None, a dict): of
    no kind of event class (see ``eventstore_core.eventkinds``).

    Only its type is named: its value may hold what the cipher was meant to hide.
    """
    for index, event in enumerate(events):
        if type(event) is Envelope:
            event = event.event
        if not is_event_object(event):
            raise InvalidEventError(
                f"append() takes domain events (objects with attributes); value {index} "
                f"is a {type(event).__name__}"
            )


# Spans and metrics of append and reads where the OpenTelemetry extra is installed (see
# telemetry.py); without it this imports nothing and leaves the methods above as they are.
from .telemetry import instrument as _instrument  # noqa: E402

_instrument(EventStore)
