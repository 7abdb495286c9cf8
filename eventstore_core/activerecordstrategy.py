"""The contract every backend fulfils: write sequenced items, read them back.

``StrategyRules`` holds what sync and async strategies share (declarations and argument
rules); ``AbstractActiveRecordStrategy`` is the sync contract (the async one is
``eventstore_core.aio.AbstractAsyncActiveRecordStrategy``). A concrete strategy implements
``_append``, ``_get_items`` and ``_iter_pages`` (plus ``capabilities``); argument checking
and the shared conventions live here, so that every backend refuses the same input with the
same exception and message. The public methods (``append``, ``get_items``, ``get_item``,
``all_items``) check their arguments and call the narrow abstract methods with clean ones.
``docs/plugins.md`` describes the contract.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar
from uuid import UUID

from .capabilities import Capabilities
from .exceptions import (
    ConcurrencyError,
    InvalidEventError,
    ItemNotFound,
    UnsupportedFeatureError,
    WrongExpectedVersionError,
)
from .sequenceditem import SequencedItem, SequencedItemFieldNames
from .streams import (
    ANY,
    CATEGORY_SEPARATOR,
    MAX_STREAM_NAME,
    NO_STREAM,
    STREAM_EXISTS,
    describe_expected,
    describe_found,
)

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]

DEFAULT_PAGE_SIZE = 1000
#: How long a polling ``wait_for_items`` sleeps at most (seconds).
POLL_SLEEP = 0.05
_SEQUENCE_ID, _POSITION = itemgetter(0), itemgetter(1)
_KEY = itemgetter(0, 1)


class OrderedItem(NamedTuple):
    """A stored item with its global position (the order in which items were committed)."""

    global_position: int
    item: Any


class StrategyRules(Generic[T]):
    """What every strategy shares, sync or async: its declarations and the argument rules.

    ``AbstractActiveRecordStrategy`` and ``AbstractAsyncActiveRecordStrategy``
    (``eventstore_core.aio``) both derive from it, so both refuse the same input with the same
    exception and message; they differ only in how their narrow methods wait on I/O.
    """

    #: What this strategy can do. Declared on the class; a strategy whose abilities depend on
    #: its table or database (no global position column, SQLite ``:memory:``) sets its own
    #: ``self.capabilities`` in ``__init__`` (e.g. ``dataclasses.replace(...)``). Read it
    #: from the instance.
    capabilities: Capabilities = Capabilities()
    #: The type every sequence id must have; backends with other id columns override it.
    #: Strings (stream names) are taken besides where ``capabilities.named_streams``.
    sequence_id_type: ClassVar[type | tuple[type, ...]] = UUID
    #: The type every position must have (``bool`` is always refused).
    position_type: type | tuple[type, ...] = int

    def __init__(
        self,
        active_record_class: Any = None,
        sequenced_item_class: type[T] = SequencedItem,  # type: ignore[assignment]
    ) -> None:
        self.active_record_class = active_record_class
        self.sequenced_item_class = sequenced_item_class
        self.field_names = SequencedItemFieldNames(sequenced_item_class)
        #: Whether items carry an event id and metadata (``EnvelopedItem`` records).
        self.enveloped = self.field_names.enveloped
        # A record class may position its items by something else (timestamp records: Decimal).
        self.position_type = getattr(active_record_class, "position_type", self.position_type)

    # -- the rules of each public method, applied before the narrow method runs ----------
    def items_to_append(self, sequenced_item_or_items: T | Sequence[T]) -> list[T]:
        """The checked list that ``append`` writes (empty: nothing to write)."""
        if isinstance(sequenced_item_or_items, list | tuple) and not hasattr(
            sequenced_item_or_items, "_fields"
        ):
            items = list(sequenced_item_or_items)
        else:
            items = [sequenced_item_or_items]  # type: ignore[list-item]
        if items:
            self.check_items(items)
        return items

    def check_read(
        self, sequence_id: Any, gt: Any, gte: Any, lt: Any, lte: Any, limit: int | None
    ) -> None:
        """Every argument of ``get_items``: sequence id, bounds and limit."""
        self.check_sequence_id(sequence_id)
        for name, bound in (("gt", gt), ("gte", gte), ("lt", lt), ("lte", lte)):
            if bound is not None:
                self.check_bound(name, bound, sequence_id)
        self.check_limit(limit)

    @staticmethod
    def item_not_found(sequence_id: Any, position: Any) -> ItemNotFound:
        """What ``get_item`` raises when nothing is stored at ``position``."""
        return ItemNotFound(f"no item at position {position!r} of sequence {sequence_id}")

    def no_global_order(self) -> NotImplementedError:
        """What ``read_all`` raises on a strategy without a global order."""
        return NotImplementedError(
            f"{type(self).__name__} has no global order (capabilities.global_order is False)"
        )

    def check_items(self, items: Sequence[Any]) -> None:
        """Refuse, before anything is written, items that cannot be stored as they are.

        On the hot path: plain types are checked by identity first, the precise (slower)
        checks and messages run only for what fails that.
        """
        item_class = self.sequenced_item_class
        seq_types = _as_tuple(self.sequence_id_type)  # (stream names: by _check_item)
        pos_types = _as_tuple(self.position_type)
        for item in items:
            if (
                type(item) is not item_class
                or type(item[0]) not in seq_types
                or type(item[1]) not in pos_types
                or type(item[1]) is Decimal
                or type(item[2]) is not str
                or not item[2]
                or type(item[3]) is not str
                or "\x00" in item[2]
                or "\x00" in item[3]
            ):
                self._check_item(item)
        if self.enveloped:
            _check_envelopes(items)
        if len(items) > 1:
            self._check_distinct(items)

    def _check_item(self, item: Any) -> None:
        seq_type, pos_type = self.sequence_id_types(), self.position_type
        item_class = self.sequenced_item_class
        if not isinstance(item, item_class):
            raise InvalidEventError(
                f"expected a {item_class.__name__}, got {type(item).__name__}"
            )
        sequence_id, position, topic, data = item[0], item[1], item[2], item[3]
        if not isinstance(sequence_id, seq_type):
            raise InvalidEventError(
                f"sequence id {sequence_id!r} (at position {position!r}) has type "
                f"{type(sequence_id).__name__}, expected {_type_names(seq_type)}"
            )
        if type(sequence_id) is str:
            check_stream_name(sequence_id)
        if isinstance(position, bool) or not isinstance(position, pos_type):
            raise InvalidEventError(
                f"position {position!r} of sequence {sequence_id} has type "
                f"{type(position).__name__}, expected {_type_names(pos_type)}"
            )
        if type(position) is Decimal and not _is_microsecond_timestamp(position):
            raise InvalidEventError(
                f"timestamp position {position!r} of sequence {sequence_id} must be finite "
                f"with at most 6 decimal places (microseconds)"
            )
        if not isinstance(topic, str) or not topic:
            raise InvalidEventError(
                f"topic {topic!r} of sequence {sequence_id} at position {position} "
                f"must be a non-empty str"
            )
        if not isinstance(data, str):
            raise InvalidEventError(
                f"data of sequence {sequence_id} at position {position} must be str, "
                f"got {type(data).__name__}"
            )
        _check_no_nul(topic, data, sequence_id, position)

    @staticmethod
    def _check_distinct(items: Sequence[Any]) -> None:
        """A position may appear once per sequence in one append (else ``InvalidEventError``)."""
        if len(set(map(id, map(_SEQUENCE_ID, items)))) == 1:  # the usual case: one sequence
            keys: set[Any] = set(map(_POSITION, items))
        else:
            keys = set(map(_KEY, items))
        if len(keys) == len(items):
            return
        seen: set[Any] = set()
        for item in items:
            if (item[0], item[1]) in seen:
                # An input error, not a conflict: retrying the same list can never succeed.
                raise InvalidEventError(
                    f"position {item[1]} of sequence {item[0]} appears twice in one append"
                )
            seen.add((item[0], item[1]))

    # -- argument checks (the same messages on every backend) ----------------------------
    def check_sequence_id(self, sequence_id: Any) -> None:
        """``InvalidEventError`` unless ``sequence_id`` has the type this strategy stores
        (a stream name, where strings are stored, as ``check_stream_name`` says)."""
        types = self.sequence_id_types()
        if not isinstance(sequence_id, types):
            raise InvalidEventError(
                f"sequence id {sequence_id!r} has type {type(sequence_id).__name__}, "
                f"expected {_type_names(types)}"
            )
        if type(sequence_id) is str:
            check_stream_name(sequence_id)

    def sequence_id_types(self) -> tuple[type, ...]:
        """The types of the sequence ids this strategy stores: ``sequence_id_type``, and
        ``str`` (stream names) where ``capabilities.named_streams``."""
        types = _as_tuple(self.sequence_id_type)
        if self.capabilities.named_streams and str not in types:
            return (*types, str)
        return types

    # -- expected versions ---------------------------------------------------------------
    def check_expected_version(self, items: Sequence[Any], expected: Any) -> None:
        """The rules of ``append(items, expected_version=expected)`` for anything but ``ANY``:
        the backend declares ``expected_versions`` (else ``UnsupportedFeatureError``);
        ``expected`` is ``NO_STREAM``, ``STREAM_EXISTS`` or a position of the store's type;
        the items are of one sequence (``InvalidEventError`` otherwise)."""
        if not self.capabilities.expected_versions:
            raise UnsupportedFeatureError(
                f"{type(self).__name__} cannot check an expected version "
                f"(capabilities.expected_versions is False); append without expected_version"
            )
        if expected is not NO_STREAM and expected is not STREAM_EXISTS:
            pos_types = _as_tuple(self.position_type)
            if (isinstance(expected, bool) or not isinstance(expected, pos_types)
                    or (type(expected) is int and expected < 0)
                    or (type(expected) is Decimal and not _is_microsecond_timestamp(expected))):
                raise InvalidEventError(
                    f"expected_version must be ANY, NO_STREAM, STREAM_EXISTS or the position "
                    f"of the last event ({_type_names(self.position_type)}, not negative), "
                    f"got {expected!r}"
                )
        sequences = {item[0] for item in items}
        if len(sequences) > 1:
            raise InvalidEventError(
                f"expected_version={expected!r} is about one sequence, but this append spans "
                f"{len(sequences)}; append to each sequence on its own"
            )

    @staticmethod
    def expected_met(expected: Any, found: Any) -> bool:
        """Whether a sequence whose last position is ``found`` (None: no item) is as
        ``expected`` says (``NO_STREAM``, ``STREAM_EXISTS`` or a position)."""
        if expected is NO_STREAM:
            return found is None
        if expected is STREAM_EXISTS:
            return found is not None
        return found is not None and found == expected

    @staticmethod
    def wrong_expected_version(
        sequence_id: Any, expected: Any, found: Any
    ) -> WrongExpectedVersionError:
        """What an append raises when the sequence is not as expected (nothing written)."""
        return WrongExpectedVersionError(
            f"sequence {sequence_id}: expected {describe_expected(expected)}, found "
            f"{describe_found(found)} (nothing of this append was written)",
            sequence_id=sequence_id, expected=expected, found=found,
        )

    # -- event ids: retries ------------------------------------------------------------
    def retried(self, taken: Sequence[tuple[Any, Any]]) -> set[tuple[Any, Any]]:
        """Given ``(new item, stored item)`` for each position of an append that is taken,
        the ``(sequence id, position)`` keys that are this append's own events stored
        before (same event id: a retry; they are not written again). Any other taken
        position is a conflict: ``ConcurrencyError`` naming those positions."""
        conflicts = [new for new, stored in taken if not self.same_event(new, stored)]
        if conflicts:
            raise self.taken_error(conflicts)
        return {(new[0], new[1]) for new, _ in taken}

    def same_event(self, new: Any, stored: Any) -> bool:
        """Whether ``new``, at a position taken by ``stored``, is the same event (enveloped
        items with the same event id): a retry, not a conflict."""
        return self.enveloped and new[4] == stored[4]

    @staticmethod
    def taken_error(taken: Sequence[Any]) -> ConcurrencyError:
        """``ConcurrencyError`` naming the positions taken, and only those, per sequence."""
        by_sequence: dict[Any, list[Any]] = {}
        for item in taken:
            by_sequence.setdefault(item[0], []).append(item[1])
        return ConcurrencyError("; ".join(
            f"position{'s' if len(positions) > 1 else ''} {', '.join(map(str, positions))} "
            f"of sequence {sequence_id} {'are' if len(positions) > 1 else 'is'} already taken"
            for sequence_id, positions in by_sequence.items()
        ) + " (nothing of this append was written)")

    # -- categories ----------------------------------------------------------------------
    def check_category(self, category: Any) -> None:
        """``category`` of ``read_all``: the backend declares ``category_reads`` (else
        ``UnsupportedFeatureError``); a non-empty str without ``-`` (else
        ``InvalidEventError``)."""
        if not isinstance(category, str) or not category:
            raise InvalidEventError(
                f"category must be a non-empty str (the part of stream names before the "
                f"first '-'), got {category!r}"
            )
        if CATEGORY_SEPARATOR in category or "\x00" in category or len(category) > MAX_STREAM_NAME:
            raise InvalidEventError(
                f"category {category!r} cannot be the part of a stream name before its first "
                f"'-': it must hold no '-' and no NUL, and at most {MAX_STREAM_NAME} characters"
            )
        if not self.capabilities.category_reads:
            raise UnsupportedFeatureError(
                f"{type(self).__name__} cannot read a category "
                f"(capabilities.category_reads is False)"
            )

    def check_bound(self, name: str, bound: Any, sequence_id: Any) -> None:
        """``InvalidEventError`` unless a read bound can be compared with stored positions:
        an int for integer positions; a finite Decimal, int or float for timestamps."""
        pos_types = _as_tuple(self.position_type)
        if Decimal in pos_types:
            allowed: tuple[type, ...] = (*pos_types, int, float)
            expected = "a finite Decimal, int or float timestamp"
        else:
            allowed, expected = pos_types, _type_names(self.position_type)
        if isinstance(bound, bool) or not isinstance(bound, allowed):
            raise InvalidEventError(
                f"{name}={bound!r} (read of sequence {sequence_id}) has type "
                f"{type(bound).__name__}, expected {expected}"
            )
        if isinstance(bound, Decimal | float) and not _is_finite(bound):
            raise InvalidEventError(
                f"{name}={bound!r} (read of sequence {sequence_id}) is not a finite number"
            )

    @staticmethod
    def check_limit(limit: int | None, name: str = "limit") -> None:
        """``InvalidEventError`` unless ``limit`` is None or an int of at least 0."""
        wrong_type = isinstance(limit, bool) or not isinstance(limit, int)
        if limit is not None and (wrong_type or limit < 0):
            raise InvalidEventError(f"{name} must be a non-negative int or None, got {limit!r}")

    @staticmethod
    def check_read_all(after: Any, limit: Any) -> None:  # (category: see check_category)
        """Both arguments of ``read_all``: ``after`` a global position (an int of at least
        0), ``limit`` an int of at least 0."""
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise InvalidEventError(
                f"after must be a global position (an int of at least 0), got {after!r}"
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise InvalidEventError(f"limit must be a non-negative int, got {limit!r}")

    @staticmethod
    def check_page_size(page_size: int, name: str = "page_size") -> None:
        """``InvalidEventError`` unless ``page_size`` is an int of at least 1."""
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise InvalidEventError(f"{name} must be an int of at least 1, got {page_size!r}")



class AbstractActiveRecordStrategy(StrategyRules[T], ABC):
    """Reads and writes sequenced items of one ``sequenced_item_class`` in one table/store."""

    # -- writing ------------------------------------------------------------------------
    def append(
        self, sequenced_item_or_items: T | Sequence[T], expected_version: Any = ANY
    ) -> None:
        """Store one item, or a list of items atomically (all or nothing).

        Raises ``ConcurrencyError`` if any position is already taken (then nothing of the
        call is written), ``InvalidEventError`` for a malformed item. ``expected_version``
        (``NO_STREAM``, ``STREAM_EXISTS`` or the last position; backends declaring
        ``expected_versions``) is checked atomically with the write:
        ``WrongExpectedVersionError`` if the sequence is otherwise. Enveloped items already
        stored at their positions with the same event ids are not written again.
        """
        items = self.items_to_append(sequenced_item_or_items)
        if expected_version is ANY:
            if items:
                self._append(items)
            return
        self.check_expected_version(items, expected_version)
        if items:  # (nothing to write: nothing to check against)
            self._append_expecting(items, expected_version)

    @abstractmethod
    def _append(self, items: list[T]) -> None:
        """Write checked items atomically; translate a taken position to ConcurrencyError
        (enveloped items: see ``retried``)."""

    def _append_expecting(self, items: list[T], expected: Any) -> None:
        """Write checked items of one sequence atomically if its last position (ignoring
        this append's own items stored before: see ``retried``) meets ``expected``
        (``expected_met``), else raise ``wrong_expected_version``. Backends declaring
        ``expected_versions`` implement it."""
        raise UnsupportedFeatureError(
            f"{type(self).__name__} cannot check an expected version"
        )

    # -- reading ------------------------------------------------------------------------
    def get_items(
        self,
        sequence_id: Any,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        limit: int | None = None,
        is_ascending: bool = True,
    ) -> list[T]:
        """Items of one sequence within the bounds, ordered by position.

        ``limit`` applies after the order: ascending gives the first ``limit`` items,
        descending the last ``limit`` items (newest first). A sequence id, bound or limit of
        the wrong type is ``InvalidEventError`` (a ``ValueError``), the same on every backend.
        """
        self.check_read(sequence_id, gt, gte, lt, lte, limit)
        if limit == 0:
            return []
        return self._get_items(sequence_id, gt, gte, lt, lte, limit, bool(is_ascending))

    @abstractmethod
    def _get_items(
        self,
        sequence_id: Any,
        gt: Any,
        gte: Any,
        lt: Any,
        lte: Any,
        limit: int | None,
        is_ascending: bool,
    ) -> list[T]:
        """Read checked arguments: a sequence id of ``sequence_id_type``, bounds of the
        position type (or None), ``limit`` None or at least 1, ``is_ascending`` a bool."""

    def get_item(self, sequence_id: Any, position: Any) -> T:
        """The item at one position; ``ItemNotFound`` if there is none."""
        items = self.get_items(sequence_id, gte=position, lte=position, limit=1)
        if not items:
            raise self.item_not_found(sequence_id, position)
        return items[0]

    def all_items(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[T]:
        """Every stored item of every sequence, read page by page, never all at once.

        A ``page_size`` that is not an int of at least 1 is refused at once.
        """
        self.check_page_size(page_size)
        return (item for page in self._iter_pages(page_size) for item in page)

    @abstractmethod
    def _iter_pages(self, page_size: int) -> Iterator[list[T]]:
        """Yield lists of at most ``page_size`` items until every item was yielded once."""

    # -- the global order (backends whose capabilities declare global_order) ------------
    def read_all(
        self, after: int = 0, limit: int = DEFAULT_PAGE_SIZE, category: str | None = None
    ) -> list[OrderedItem]:
        """Items with a global position above ``after``, in that order, at most ``limit``;
        with ``category``, of the streams ``<category>-...`` only (``category_reads``).

        Global positions increase in the order of commit, so a reader that resumes after the
        last position it saw never skips an item that was committed later. A bad ``after``,
        ``limit`` or ``category`` is ``InvalidEventError``, the same on every backend.
        """
        self.check_read_all(after, limit)
        if category is not None:
            self.check_category(category)
            return self._read_category(after, limit, category) if limit else []
        if limit == 0:
            return []
        return self._read_all(after, limit)

    def _read_category(self, after: int, limit: int, category: str) -> list[OrderedItem]:
        """As ``_read_all``, of the streams whose names start with ``category + "-"``.
        Backends declaring ``category_reads`` implement it."""
        raise UnsupportedFeatureError(f"{type(self).__name__} cannot read a category")

    def _read_all(self, after: int, limit: int) -> list[OrderedItem]:
        """Read checked arguments: ``after`` an int of at least 0, ``limit`` at least 1.
        Backends whose capabilities declare ``global_order`` implement it."""
        raise self.no_global_order()

    def wait_for_items(self, after: int, timeout: float) -> None:
        """Block until items above ``after`` may have been stored, or ``timeout`` passes.

        Polling backends just sleep; backends with notifications (PostgreSQL's LISTEN)
        return as soon as a writer says so.
        """
        import time

        time.sleep(min(timeout, POLL_SLEEP))

    def close(self) -> None:
        """Release connections held by this strategy (optional for backends)."""


def check_stream_name(name: str) -> None:
    """``InvalidEventError`` unless ``name`` can be a stream name (a string sequence id) on
    every backend: not empty, at most ``MAX_STREAM_NAME`` characters, no NUL, and not a UUID
    written as text (which a backend storing ids as text could not tell from the UUID)."""
    if not name or len(name) > MAX_STREAM_NAME or "\x00" in name:
        raise InvalidEventError(
            f"stream name {name[:60]!r}{'...' if len(name) > 60 else ''} must be a non-empty "
            f"str of at most {MAX_STREAM_NAME} characters without NUL (it has {len(name)})"
        )
    if 32 <= len(name) <= 45:
        try:
            UUID(name)
        except ValueError:
            return
        raise InvalidEventError(
            f"stream name {name!r} is a UUID written as text: give the UUID itself "
            f"(uuid.UUID({name!r})), so that every backend stores one sequence for it"
        )


def _check_envelopes(items: Sequence[Any]) -> None:
    """Event ids (UUIDs, each once per append) and metadata (str without NUL) of
    ``EnvelopedItem`` records."""
    ids = set()
    for item in items:
        event_id, metadata = item[4], item[5]
        if type(event_id) is not UUID and not isinstance(event_id, UUID):
            raise InvalidEventError(
                f"event id {event_id!r} of sequence {item[0]} at position {item[1]} has type "
                f"{type(event_id).__name__}, expected UUID"
            )
        if type(metadata) is not str or "\x00" in metadata:
            raise InvalidEventError(
                f"metadata of sequence {item[0]} at position {item[1]} must be a str without "
                f"NUL (the mapper encodes the mapping), got a {type(metadata).__name__}"
            )
        ids.add(event_id)
    if len(ids) != len(items):
        raise InvalidEventError("the same event id appears twice in one append")


def _check_no_nul(topic: str, data: str, sequence_id: Any, position: Any) -> None:
    """NUL characters are refused in topics and data on every backend (PostgreSQL cannot
    store them in text; a topic with one names no class)."""
    if "\x00" in topic:
        raise InvalidEventError(
            f"topic {topic!r} of sequence {sequence_id} at position {position} contains a NUL "
            f"character (\\x00), which no topic may hold; nothing of this append was written"
        )
    if "\x00" in data:
        raise InvalidEventError(
            f"data of sequence {sequence_id} at position {position} contains a NUL character "
            f"(\\x00), which not every database can store (the JSON codec writes it as "
            f"\\u0000); nothing of this append was written"
        )


def _is_finite(number: Decimal | float) -> bool:
    return Decimal(number).is_finite() if isinstance(number, float) else number.is_finite()


def _is_microsecond_timestamp(position: Decimal) -> bool:
    exponent = position.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -6


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    if isinstance(types, tuple):
        return " or ".join(t.__name__ for t in types)
    return types.__name__
