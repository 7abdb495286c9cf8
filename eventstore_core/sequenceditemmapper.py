"""Maps domain events to sequenced items and back: the first step of the hot path."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from .cipher import Cipher
from .events import DomainEvent
from .exceptions import (
    DataIntegrityError,
    EncodingError,
    EventStoreError,
    InvalidEventError,
)
from .jsoncodec import JSONObjectDecoder, JSONObjectEncoder
from .sequenceditem import SequencedItem, SequencedItemFieldNames
from .topics import get_topic, resolve_topic

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]


class SequencedItemMapper(Generic[T]):
    """Converts between domain events and ``sequenced_item_class`` namedtuples.

    The event's sequence id and position attributes (by default named like the first two
    fields of the namedtuple) become the item's first two fields; the rest of the event's
    attributes are encoded (JSON by default) and, with ``always_encrypt`` (or an event class
    whose ``__always_encrypt__`` is true), encrypted with ``cipher``.
    """

    def __init__(
        self,
        sequenced_item_class: type[T] = SequencedItem,  # type: ignore[assignment]
        sequence_id_attr_name: str | None = None,
        position_attr_name: str | None = None,
        json_encoder_class: type[Any] | None = None,
        json_decoder_class: type[Any] | None = None,
        cipher: Cipher | None = None,
        always_encrypt: bool = False,
    ) -> None:
        self.sequenced_item_class = sequenced_item_class
        self.field_names = SequencedItemFieldNames(sequenced_item_class)
        self.sequence_id_attr_name = sequence_id_attr_name or self.field_names.sequence_id
        self.position_attr_name = position_attr_name or self.field_names.position
        self.json_encoder = (json_encoder_class or JSONObjectEncoder)()
        self.json_decoder = (json_decoder_class or JSONObjectDecoder)()
        if always_encrypt and cipher is None:
            raise ValueError("always_encrypt=True needs a cipher")
        self.cipher = cipher
        self.always_encrypt = always_encrypt
        self._classes: dict[type, tuple[str, bool]] = {}  # class -> (topic, encrypted)

    def to_sequenced_item(self, domain_event: Any) -> T:
        """Map one event to one sequenced item (encoded, maybe encrypted)."""
        state = dict(domain_event.__dict__)
        try:
            sequence_id = state.pop(self.sequence_id_attr_name)
            position = state.pop(self.position_attr_name)
        except KeyError as missing:
            raise InvalidEventError(
                f"{type(domain_event).__qualname__} has no attribute {missing.args[0]!r}, "
                f"which this mapper reads as the "
                f"{'sequence id' if missing.args[0] == self.sequence_id_attr_name else 'position'}"
                f": {domain_event!r}"
            ) from None
        cls = type(domain_event)
        try:
            data = self.json_encoder.encode(state)
        except EncodingError as error:
            raise EncodingError(
                f"event {cls.__qualname__} for sequence {sequence_id} at position {position}: "
                f"{error}"
            ) from None
        topic, encrypted = self._classes.get(cls) or self._class_info(cls)
        if encrypted:
            data = self._cipher().encrypt(data)
        return tuple.__new__(self.sequenced_item_class, (sequence_id, position, topic, data))

    def from_sequenced_item(self, sequenced_item: T) -> Any:
        """Map one sequenced item back to the event it was made from."""
        sequence_id, position, topic, data = sequenced_item[:4]
        try:
            cls = resolve_topic(topic)
            if (self._classes.get(cls) or self._class_info(cls))[1]:
                data = self._cipher().decrypt(data)
            state = self.json_decoder.decode(data)
            if type(state) is not dict:
                raise DataIntegrityError(f"data is a {type(state).__name__}, not an object")
        except EventStoreError as error:
            raise type(error)(f"sequence {sequence_id} at position {position}: {error}") from error
        state[self.sequence_id_attr_name] = sequence_id
        state[self.position_attr_name] = position
        if issubclass(cls, DomainEvent):
            return cls._from_state(state)
        event = object.__new__(cls)
        event.__dict__.update(state)
        return event

    def _class_info(self, cls: type) -> tuple[str, bool]:
        """The topic of ``cls`` and whether its events are encrypted (then kept per class)."""
        encrypted = self.always_encrypt or bool(getattr(cls, "__always_encrypt__", False))
        info = self._classes[cls] = (get_topic(cls), encrypted)
        return info

    def _cipher(self) -> Cipher:
        if self.cipher is None:
            raise EncodingError("an event class asks to be encrypted but the mapper has no cipher")
        return self.cipher
