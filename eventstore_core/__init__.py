"""eventstore: an event store for event-sourced Python applications.

Everything a user needs is importable from here; backends, ciphers and codecs come from
plugins (see ``eventstore_core.plugins``).
"""

from .activerecordstrategy import AbstractActiveRecordStrategy, OrderedItem
from .capabilities import Capabilities
from .cipher import Cipher
from .config import Option
from .eventkinds import EventKind, register_event_kind
from .events import DomainEvent, TimestampedEvent
from .eventstore import EventStore
from .exceptions import (
    ConcurrencyError,
    ConfigurationError,
    DataIntegrityError,
    DatastoreError,
    EncodingError,
    EventStoreError,
    InvalidEventError,
    ItemNotFound,
    OutcomeUnknownError,
    TopicResolutionError,
    UnsupportedFeatureError,
    WrongExpectedVersionError,
)
from .hookspecs import hookimpl
from .jsoncodec import JSONObjectDecoder, JSONObjectEncoder
from .memory import InMemoryActiveRecordStrategy
from .sequenceditem import EnvelopedItem, SequencedItem, StoredEvent
from .sequenceditemmapper import SequencedItemMapper
from .snapshots import Repository, Snapshot, SnapshotStrategy
from .streams import ANY, NO_STREAM, STREAM_EXISTS, Envelope, category_of
from .subscription import CatchUpSubscription
from .timestamps import decimal_timestamp
from .topics import allow_module, get_topic, register_class, register_topic, resolve_topic
from .upcasting import register_upcaster, upcaster

__all__ = [
    "ANY",
    "NO_STREAM",
    "STREAM_EXISTS",
    "AbstractActiveRecordStrategy",
    "Capabilities",
    "CatchUpSubscription",
    "Cipher",
    "ConcurrencyError",
    "ConfigurationError",
    "DataIntegrityError",
    "DatastoreError",
    "DomainEvent",
    "EncodingError",
    "Envelope",
    "EnvelopedItem",
    "EventStore",
    "EventKind",
    "EventStoreError",
    "InMemoryActiveRecordStrategy",
    "InvalidEventError",
    "ItemNotFound",
    "JSONObjectDecoder",
    "JSONObjectEncoder",
    "Option",
    "OrderedItem",
    "OutcomeUnknownError",
    "Repository",
    "SequencedItem",
    "SequencedItemMapper",
    "Snapshot",
    "SnapshotStrategy",
    "StoredEvent",
    "TimestampedEvent",
    "TopicResolutionError",
    "UnsupportedFeatureError",
    "WrongExpectedVersionError",
    "category_of",
    "decimal_timestamp",
    "allow_module",
    "get_topic",
    "hookimpl",
    "register_event_kind",
    "register_class",
    "register_topic",
    "register_upcaster",
    "resolve_topic",
    "upcaster",
]
