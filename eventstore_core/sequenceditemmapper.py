"""Maps domain events to sequenced items and back: the first step of the hot path."""

from __future__ import annotations

from functools import partial
from typing import Any, Generic, TypeVar, cast

from .cipher import Cipher, associated_data, takes_associated_data
from .cipher import dumps_row as _dumps_row
from .events import DomainEvent
from .exceptions import (
    DataIntegrityError,
    EncodingError,
    EventStoreError,
    InvalidEventError,
)
from .jsoncodec import JSONObjectDecoder, JSONObjectEncoder
from .sequenceditem import SequencedItem, SequencedItemFieldNames
from .topics import resolve_topic, writable_topic
from .upcasting import VERSION_KEY, class_version, upcast

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]

_new = object.__new__
_setattr = object.__setattr__
_DEFAULT_FROM_STATE = DomainEvent._from_state.__func__  # type: ignore[attr-defined]


class SequencedItemMapper(Generic[T]):
    """Converts between domain events and ``sequenced_item_class`` namedtuples.

    The event's sequence id and position attributes (by default named like the first two
    fields of the namedtuple) become the item's first two fields; the rest of the event's
    attributes are encoded (JSON by default) and, with ``always_encrypt`` (or an event class
    whose ``__always_encrypt__`` is true), encrypted with ``cipher``.

    A cipher that takes ``associated_data`` (``eventstore_aes.AESCipher``) gets the item's
    sequence id, position and topic, so that a ciphertext reads back only in its own row
    (``binds_rows`` is then true); see ``eventstore_core.cipher``.
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
        self._wide_items = bool(self.field_names.other_names)  # more than the four fields
        self.sequence_id_attr_name = sequence_id_attr_name or self.field_names.sequence_id
        self.position_attr_name = position_attr_name or self.field_names.position
        self.json_encoder = (json_encoder_class or JSONObjectEncoder)()
        self.json_decoder = (json_decoder_class or JSONObjectDecoder)()
        if always_encrypt and cipher is None:
            raise ValueError("always_encrypt=True needs a cipher")
        self.cipher = cipher
        self.always_encrypt = always_encrypt
        self._classes: dict[type, tuple[str, bool, int]] = {}  # class -> see _class_info
        self._topics: dict[str, tuple[type, bool, Any]] = {}  # topic -> see _topic_info

    @property
    def cipher(self) -> Cipher | None:
        """The cipher of encrypted events (None: no event may ask to be encrypted)."""
        return self._cipher_object

    @cipher.setter
    def cipher(self, cipher: Cipher | None) -> None:
        self._cipher_object = cipher
        #: Whether ciphertexts are bound to their rows (the cipher takes associated data).
        self.binds_rows = cipher is not None and takes_associated_data(cipher)
        # looked up once, for the hot path
        self._encrypt: Any = None if cipher is None else cipher.encrypt
        self._decrypt: Any = None if cipher is None else cipher.decrypt

    @property
    def json_decoder(self) -> Any:
        """The decoder of the events' data (its ``decode`` is looked up once, on the hot path)."""
        return self._json_decoder

    @json_decoder.setter
    def json_decoder(self, decoder: Any) -> None:
        self._json_decoder = decoder
        self._decode = decoder.decode

    def to_sequenced_item(self, domain_event: Any) -> T:
        """Map one event to one sequenced item (encoded, maybe encrypted)."""
        try:
            state = dict(domain_event.__dict__)
        except AttributeError:  # __slots__ and no __dict__: nothing the mapper can read
            raise InvalidEventError(
                f"{type(domain_event).__qualname__} has no __dict__ (a class with __slots__, "
                f"such as a dataclass with slots=True, cannot be mapped)"
            ) from None
        try:
            sequence_id = state.pop(self.sequence_id_attr_name)
            position = state.pop(self.position_attr_name)
        except KeyError as missing:
            role = "sequence id" if missing.args[0] == self.sequence_id_attr_name else "position"
            raise InvalidEventError(  # names the attributes, never their values
                f"{type(domain_event).__qualname__} has no attribute {missing.args[0]!r}, "
                f"which this mapper reads as the {role}; its attributes are: "
                f"{', '.join(sorted(map(str, domain_event.__dict__))) or 'none'}"
            ) from None
        cls = type(domain_event)
        topic, encrypted, version = self._classes.get(cls) or self._class_info(cls)
        if version:  # a class above version 1: its version is stored with the state
            state[VERSION_KEY] = version
        try:
            data = self.json_encoder.encode(state)
        except EncodingError as error:
            raise EncodingError(
                f"event {cls.__qualname__} for sequence {sequence_id} at position {position}: "
                f"{error}"
            ) from None
        if encrypted:
            encrypt = self._encrypt or self._no_cipher()
            if self.binds_rows:  # (associated_data inline for int positions)
                try:
                    row = (_dumps_row((sequence_id, position, topic)) if type(position) is int
                           else associated_data(sequence_id, position, topic))
                except TypeError:
                    row = associated_data(sequence_id, position, topic)
                data = encrypt(data, row)
            else:
                data = encrypt(data)
        return tuple.__new__(self.sequenced_item_class, (sequence_id, position, topic, data))

    def from_sequenced_item(self, sequenced_item: T) -> Any:
        """Map one sequenced item back to the event it was made from."""
        sequence_id, position, topic, data = (
            sequenced_item[:4] if self._wide_items else sequenced_item
        )
        try:
            cls, encrypted, build = self._topics.get(topic) or self._topic_info(topic)
            if encrypted:
                decrypt = self._decrypt or self._no_cipher()
                if self.binds_rows:  # (as in to_sequenced_item)
                    try:
                        row = (_dumps_row((sequence_id, position, topic))
                               if type(position) is int
                               else associated_data(sequence_id, position, topic))
                    except TypeError:
                        row = associated_data(sequence_id, position, topic)
                    data = decrypt(data, row)
                else:
                    data = decrypt(data)
            state = self._decode(data)
            if type(state) is not dict:
                raise DataIntegrityError(f"data is a {type(state).__name__}, not an object")
        except EventStoreError as error:
            raise type(error)(f"sequence {sequence_id} at position {position}: {error}") from error
        state[self.sequence_id_attr_name] = sequence_id
        state[self.position_attr_name] = position
        if build is None:  # a DomainEvent: given the state as its __dict__, as _from_state does
            event: Any = _new(cls)
            _setattr(event, "__dict__", state)
            return event
        try:
            return build(state)
        except EventStoreError as error:  # an upcast that failed
            raise type(error)(f"sequence {sequence_id} at position {position}: {error}") from error

    def _topic_info(self, topic: str) -> tuple[type, bool, Any]:
        """The class a topic names, whether its events are encrypted, and how to build one
        from its state (None for ``DomainEvent._from_state``, which ``from_sequenced_item``
        does inline)."""
        cls = resolve_topic(topic)  # an event class, or TopicResolutionError
        encrypted = self.always_encrypt or bool(getattr(cls, "__always_encrypt__", False))
        build: Any = partial(_from_dict, cls)  # any other class: its __dict__ updated
        if issubclass(cls, DomainEvent):
            own = cls._from_state.__func__ is not _DEFAULT_FROM_STATE  # type: ignore[attr-defined]
            build = cls._from_state if own else None
        current = class_version(cls)
        if current > 1:  # brought up to the current version first (see upcasting)
            build = partial(_upcast_and_build, cls, current, build or cast(Any, cls)._from_state)
        info = self._topics[topic] = (cls, encrypted, build)
        return info

    def _class_info(self, cls: type) -> tuple[str, bool, int]:
        """The topic of ``cls``, whether its events are encrypted, and its version if above 1
        (else 0): kept per class.

        A class whose topic would not resolve back to it when read is refused here
        (``TopicResolutionError``), before anything of it is stored.
        """
        encrypted = self.always_encrypt or bool(getattr(cls, "__always_encrypt__", False))
        version = class_version(cls)
        info = self._classes[cls] = (writable_topic(cls), encrypted, version if version > 1 else 0)
        return info

    def _no_cipher(self) -> Any:
        raise EncodingError("an event class asks to be encrypted but the mapper has no cipher")


def _from_dict(cls: type, state: dict[str, Any]) -> Any:
    """An object of a class that is not a ``DomainEvent``: made without ``__init__``, with the
    stored attributes."""
    event: Any = _new(cls)
    event.__dict__.update(state)
    return event


def _upcast_and_build(cls: type, current: int, build: Any, state: dict[str, Any]) -> Any:
    """An event of a versioned class: its stored state upcast to ``current``, then built."""
    return build(upcast(cls, state, current))
