"""eventsourcing 9.5.6, used the way its Application uses it: Mapper + ApplicationRecorder.

Its ``EventStore`` (``eventsourcing.persistence``) maps its frozen-dataclass ``DomainEvent``
objects with a ``JSONTranscoder`` (UUID, datetime and Decimal transcodings registered, as an
Application does) and hands them to the POPO, SQLite or PostgreSQL application recorder.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    Cipher,
    DatetimeAsISO,
    DecimalAsStr,
    EventStore,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    RecordConflictError,
    UUIDAsHex,
)
from eventsourcing.utils import Environment

from . import servers
from .sides import Side, TempDir
from .workload import EventSpec


@dataclass(frozen=True)
class BenchEvent(DomainEvent):
    name: str
    amount: int
    price: float
    tags: list[str]
    note: str


def make_event(spec: EventSpec) -> BenchEvent:
    return BenchEvent(**spec.event_kwargs())


def transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DecimalAsStr())
    return transcoder


def mapper(aes_key: bytes | None = None, cipher_topic: str = "") -> Mapper[UUID]:
    """The mapper an Application builds; with a key, its default AES cipher (pycryptodome).

    ``cipher_topic`` picks another cipher, e.g. ``eventsourcing.cryptography:AESCipher``.
    """
    cipher: Cipher | None = None
    if aes_key is not None:
        env = Environment(env={"CIPHER_KEY": b64encode(aes_key).decode()})
        if cipher_topic == "eventsourcing.cryptography:AESCipher":
            from eventsourcing.cryptography import AESCipher as CryptographyAESCipher

            cipher = CryptographyAESCipher(env)
        else:
            from eventsourcing.cipher import AESCipher

            cipher = AESCipher(env)
    return Mapper(transcoder=transcoder(), cipher=cipher)


class EventsourcingSide(Side):
    library = "eventsourcing"
    conflict_errors = (IntegrityError, RecordConflictError)

    def __init__(self) -> None:
        self.mapper = mapper()
        self.recorder: ApplicationRecorder | None = None
        self.store: EventStore[UUID] | None = None

    def _new_recorder(self) -> ApplicationRecorder:
        raise NotImplementedError

    def reset(self) -> None:
        self.close()
        self.recorder = self._new_recorder()
        self.store = EventStore(mapper=self.mapper, recorder=self.recorder)

    def _store(self) -> EventStore[UUID]:
        assert self.store is not None, "reset() first"
        return self.store

    def make_events(self, specs: Sequence[EventSpec]) -> list[Any]:
        return [make_event(spec) for spec in specs]

    def append(self, events: list[Any]) -> None:
        self._store().put(events)

    def read_sequence(self, sequence_id: UUID) -> list[Any]:
        return list(self._store().get(sequence_id))

    def read_last(self, sequence_id: UUID, count: int) -> list[Any]:
        return list(self._store().get(sequence_id, desc=True, limit=count))

    def iter_all(self, page_size: int) -> Iterator[Any]:
        recorder = self.recorder
        assert recorder is not None
        to_event = self.mapper.to_domain_event
        start = 1
        while True:
            page = recorder.select_notifications(start, limit=page_size)
            yield from map(to_event, page)
            if len(page) < page_size:
                return
            start = page[-1].id + 1

    def iter_sequence(self, sequence_id: UUID, page_size: int) -> Iterator[Any]:
        store = self._store()
        after: int | None = None
        while True:
            page = list(store.get(sequence_id, gt=after, limit=page_size))
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].originator_version


class POPOSide(EventsourcingSide):
    backend = "memory"

    def _new_recorder(self) -> ApplicationRecorder:
        from eventsourcing.popo import POPOApplicationRecorder

        return POPOApplicationRecorder()


class SQLiteSide(EventsourcingSide):
    backend = "sqlite"

    def __init__(self, path: str | None = None) -> None:
        super().__init__()
        self.tmp: TempDir | None = None
        if path is None:
            self.tmp = TempDir("bench-eventsourcing-")
            path = self.tmp.file("eventsourcing.sqlite3")
        self.path = path
        self.datastore: Any = None

    def _new_recorder(self) -> ApplicationRecorder:
        from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

        if self.tmp is not None:
            self.tmp.clear()
        self.datastore = SQLiteDatastore(db_name=self.path)
        recorder = SQLiteApplicationRecorder(self.datastore)
        recorder.create_table()
        return recorder

    def open_existing(self) -> None:
        """Open the file as it is (W6's reading process)."""
        from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

        self.datastore = SQLiteDatastore(db_name=self.path)
        self.recorder = SQLiteApplicationRecorder(self.datastore)
        self.store = EventStore(mapper=self.mapper, recorder=self.recorder)

    def close(self) -> None:
        if self.datastore is not None:
            self.datastore.close()
            self.datastore = None
        self.store = self.recorder = None

    def cleanup(self) -> None:
        self.close()
        if self.tmp is not None:
            self.tmp.cleanup()


class PostgresSide(EventsourcingSide):
    backend = "postgres"

    def __init__(self) -> None:
        super().__init__()
        self.datastore: Any = None

    def _datastore(self) -> Any:
        from eventsourcing.postgres import PostgresDatastore

        pg = servers.postgres()
        # pool_size 5 like SQLAlchemy's default, so W5's four threads do not queue for one;
        # connect_timeout 30 s (its default 5) so that W7's 16 processes all get connected.
        return PostgresDatastore(
            dbname=pg.theirs_db, host=pg.host, port=pg.port, user=pg.user,
            password=pg.password, pool_size=5, connect_timeout=30,
        )

    def _new_recorder(self) -> ApplicationRecorder:
        from eventsourcing.postgres import PostgresApplicationRecorder

        self.datastore = self._datastore()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("DROP TABLE IF EXISTS stored_events")
        recorder = PostgresApplicationRecorder(self.datastore)
        recorder.create_table()
        return recorder

    def open_existing(self) -> None:
        from eventsourcing.postgres import PostgresApplicationRecorder

        self.datastore = self._datastore()
        self.recorder = PostgresApplicationRecorder(self.datastore)
        self.store = EventStore(mapper=self.mapper, recorder=self.recorder)

    def close(self) -> None:
        if self.datastore is not None:
            self.datastore.close()
            self.datastore = None
        self.store = self.recorder = None
