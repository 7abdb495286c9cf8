"""Maps domain events to sequenced items and back: the first step of the hot path."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

from .cipher import Cipher, associated_data, takes_associated_data
from .cipher import dumps_row as _dumps_row
from .eventkinds import Reader, builder_of, kind_of, reader_of
from .exceptions import (
    ConfigurationError,
    DataIntegrityError,
    EncodingError,
    EventStoreError,
    InvalidEventError,
    TopicResolutionError,
    UnsupportedFeatureError,
)
from .jsoncodec import JSONObjectDecoder, JSONObjectEncoder
from .sequenceditem import SequencedItem, SequencedItemFieldNames
from .streams import Envelope
from .topics import resolve_topic, writable_topic
from .upcasting import VERSION_KEY, class_version, upcast

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]

_new = object.__new__
_setattr = object.__setattr__


class SequencedItemMapper(Generic[T]):
    """Converts between domain events and ``sequenced_item_class`` namedtuples.

    The event's sequence id and position attributes (by default named like the first two
    fields of the namedtuple) become the item's first two fields; the rest of the event's
    attributes are encoded (JSON by default) and, with ``always_encrypt`` (or an event class
    whose ``__always_encrypt__`` is true), encrypted with ``cipher``. Events may be
    ``DomainEvent`` objects, dataclasses, pydantic models or msgspec Structs: each kind is
    read and rebuilt exactly by its adapter in ``eventstore_core.eventkinds``.

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
        event_id_attr_name: str = "event_id",
        encrypt_metadata: bool = False,
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
        #: Whether items carry an event id and metadata (``EnvelopedItem``): then each item
        #: gets the event's ``event_id_attr_name`` attribute if it is a UUID, else a uuid4.
        self.enveloped = self.field_names.enveloped
        self.event_id_attr_name = event_id_attr_name
        if encrypt_metadata and cipher is None:
            raise ConfigurationError("encrypt_metadata=True needs a cipher")
        #: Whether metadata is encrypted (with the cipher, bound to its row like the state).
        self.encrypt_metadata = encrypt_metadata
        self._classes: dict[type, tuple[str, bool, int, Reader | None]] = {}  # _class_info
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
        """Map one event (or ``Envelope``) to one sequenced item (encoded, maybe encrypted)."""
        cls = type(domain_event)
        info = self._classes.get(cls)
        if info is None:
            if cls is Envelope:
                return self._enveloped_item(domain_event)
            info = self._class_info(cls)
        topic, encrypted, version, read = info
        state = dict(domain_event.__dict__) if read is None else read(domain_event)
        try:
            sequence_id = state.pop(self.sequence_id_attr_name)
            position = state.pop(self.position_attr_name)
        except KeyError as missing:
            role = "sequence id" if missing.args[0] == self.sequence_id_attr_name else "position"
            names = reader_of(cls)(domain_event)
            raise InvalidEventError(  # names the attributes, never their values
                f"{cls.__qualname__} has no attribute {missing.args[0]!r}, "
                f"which this mapper reads as the {role}; its attributes are: "
                f"{', '.join(sorted(map(str, names))) or 'none'}"
            ) from None
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
        if self.enveloped:
            event_id = state.get(self.event_id_attr_name)
            if type(event_id) is not UUID:
                event_id = uuid4()
            return tuple.__new__(self.sequenced_item_class,
                                 (sequence_id, position, topic, data, event_id, ""))
        return tuple.__new__(self.sequenced_item_class, (sequence_id, position, topic, data))

    def _enveloped_item(self, envelope: Envelope) -> T:
        """The item of an ``Envelope``: its event's, with its event id and metadata."""
        event_id, metadata = envelope.event_id, envelope.metadata
        if type(envelope.event) is Envelope:
            raise InvalidEventError("an Envelope holds an event, not another Envelope")
        if event_id is not None and not isinstance(event_id, UUID):
            raise InvalidEventError(
                f"the event id of an Envelope must be a UUID or None, got a "
                f"{type(event_id).__name__}"
            )
        if not self.enveloped:
            if not metadata and event_id is None:
                return self.to_sequenced_item(envelope.event)
            raise UnsupportedFeatureError(
                f"{self.sequenced_item_class.__name__} items have no event id and no "
                f"metadata: map Envelopes to EnvelopedItem (a store of record 'enveloped', "
                f"capabilities.event_ids and metadata)"
            )
        item: Any = self.to_sequenced_item(envelope.event)
        fields = list(item)
        if event_id is not None:
            fields[4] = event_id
        if metadata:
            fields[5] = self.encode_metadata(metadata, item[0], item[1], item[2])
        return tuple.__new__(self.sequenced_item_class, fields)

    def encode_metadata(
        self, metadata: Mapping[str, Any], sequence_id: Any, position: Any, topic: str
    ) -> str:
        """The stored text of a metadata mapping (JSON; encrypted with ``encrypt_metadata``)."""
        if not isinstance(metadata, Mapping) or any(type(k) is not str for k in metadata):
            raise InvalidEventError(
                f"metadata of sequence {sequence_id} at position {position} must be a "
                f"mapping with str keys, got a {type(metadata).__name__}"
            )
        try:
            text: str = self.json_encoder.encode(dict(metadata))
        except EncodingError as error:
            raise EncodingError(
                f"metadata of sequence {sequence_id} at position {position}: {error}"
            ) from None
        if self.encrypt_metadata:
            encrypt = self._encrypt or self._no_cipher()
            if self.binds_rows:
                text = encrypt(text, _metadata_row(sequence_id, position, topic))
            else:
                text = encrypt(text)
        return text

    def metadata_of(self, sequenced_item: Any) -> dict[str, Any]:
        """The metadata mapping of an item read back (``{}``: none), decoded (and decrypted,
        with ``encrypt_metadata``) without decoding or decrypting the event's state."""
        if not self.enveloped or not sequenced_item[5]:
            return {}
        sequence_id, position, topic = sequenced_item[0], sequenced_item[1], sequenced_item[2]
        text = sequenced_item[5]
        try:
            if self.encrypt_metadata:
                decrypt = self._decrypt or self._no_cipher()
                if self.binds_rows:
                    text = decrypt(text, _metadata_row(sequence_id, position, topic))
                else:
                    text = decrypt(text)
            metadata = self._decode(text)
            if type(metadata) is not dict:
                raise DataIntegrityError(f"metadata is a {type(metadata).__name__}, not an object")
        except EventStoreError as error:
            raise _at(error, sequence_id, position, "metadata of ") from error
        return metadata  # type: ignore[no-any-return]

    def envelope_of(self, sequenced_item: Any) -> Envelope:
        """The event of an item read back, with its metadata and event id (None for items
        without one)."""
        event_id = sequenced_item[4] if self.enveloped else None
        return Envelope(self.from_sequenced_item(sequenced_item),
                        self.metadata_of(sequenced_item), event_id)

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
            raise _at(error, sequence_id, position) from error
        state[self.sequence_id_attr_name] = sequence_id
        state[self.position_attr_name] = position
        if build is None:  # (see eventkinds: the state becomes the new object's __dict__)
            event: Any = _new(cls)
            _setattr(event, "__dict__", state)
            return event
        try:
            return build(state)
        except EventStoreError as error:  # an upcast that failed, a state that does not fit
            raise _at(error, sequence_id, position) from error

    def _topic_info(self, topic: str) -> tuple[type, bool, Any]:
        """The class a topic names, whether its events are encrypted, and how to build one
        from its state: its kind's builder (see ``eventstore_core.eventkinds``), None for the
        inline path of ``DomainEvent`` and other ``__dict__`` objects."""
        cls = resolve_topic(topic)  # an event class, or TopicResolutionError
        encrypted = self.always_encrypt or bool(getattr(cls, "__always_encrypt__", False))
        kind = kind_of(cls)
        if kind is None:  # a registered class of no kind (its objects have no attributes)
            raise TopicResolutionError(
                f"topic {topic!r} names {cls.__qualname__}, which is no kind of event class"
            )
        build = kind.builder(cls)  # None: inline in from_sequenced_item
        current = class_version(cls)
        if current > 1:  # brought up to the current version first (see upcasting)
            build = partial(_upcast_and_build, cls, current, build or builder_of(cls))
        info = self._topics[topic] = (cls, encrypted, build)
        return info

    def _class_info(self, cls: type) -> tuple[str, bool, int, Reader | None]:
        """The topic of ``cls``, whether its events are encrypted, its version if above 1
        (else 0), and how its attributes are read (None: its ``__dict__``): kept per class.

        An object of no kind of event class is refused (``InvalidEventError``), and a class
        whose topic would not resolve back to it when read (``TopicResolutionError``), before
        anything of it is stored.
        """
        kind = kind_of(cls)
        if kind is None:
            raise InvalidEventError(
                f"a {cls.__qualname__} is no event: the mapper takes DomainEvents, dataclasses, "
                f"pydantic models, msgspec Structs and other objects with attributes"
            )
        encrypted = self.always_encrypt or bool(getattr(cls, "__always_encrypt__", False))
        version = class_version(cls)
        topic = writable_topic(cls)
        info = self._classes[cls] = (topic, encrypted, version if version > 1 else 0,
                                     kind.reader(cls))
        return info

    def _no_cipher(self) -> Any:
        raise EncodingError("an event class asks to be encrypted but the mapper has no cipher")


def _at(error: EventStoreError, sequence_id: Any, position: Any,
        what: str = "") -> EventStoreError:
    """``error`` again, naming the item it is about (and, for the errors of an unreadable
    item, carrying its ``sequence_id`` and ``position``)."""
    message = f"{what}sequence {sequence_id} at position {position}: {error}"
    if isinstance(error, (DataIntegrityError, TopicResolutionError)):
        return type(error)(message, sequence_id=sequence_id, position=position)
    return type(error)(message)


def _metadata_row(sequence_id: Any, position: Any, topic: str) -> bytes:
    """The associated data of encrypted metadata: its row's, marked as metadata (so that
    neither it nor the state decrypts in the other's place)."""
    return b"metadata:" + associated_data(sequence_id, position, topic)


def _upcast_and_build(cls: type, current: int, build: Any, state: dict[str, Any]) -> Any:
    """An event of a versioned class: its stored state upcast to ``current``, then built."""
    return build(upcast(cls, state, current))
