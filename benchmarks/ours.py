"""This project: ``EventStore`` with its default mapper (JSON through orjson) on each backend."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventstore_core import ConcurrencyError, DomainEvent, EventStore, SequencedItemMapper

from . import servers
from .sides import Side, TempDir
from .workload import EventSpec


class BenchEvent(DomainEvent):
    """The workload's event: id, position, timestamp and five attributes."""


def make_event(spec: EventSpec) -> BenchEvent:
    return BenchEvent(**spec.event_kwargs())


def mapper(aes_key: bytes | None = None) -> SequencedItemMapper[Any]:
    """The mapper ``from_config`` builds; with a key, AES-GCM on every event."""
    cipher = None
    if aes_key is not None:
        from eventstore_aes import AESCipher

        cipher = AESCipher(aes_key=aes_key)
    return SequencedItemMapper(
        sequence_id_attr_name="originator_id",
        position_attr_name="originator_version",
        cipher=cipher,
        always_encrypt=cipher is not None,
    )


class OursSide(Side):
    library = "ours"
    conflict_errors = (ConcurrencyError,)

    def __init__(self) -> None:
        self.store: EventStore | None = None

    def _open(self) -> EventStore:
        raise NotImplementedError

    def reset(self) -> None:
        self.close()
        self.store = self._open()

    def open_existing(self) -> None:
        """Open the store as it is (W6's reading process)."""
        self.store = self._open_existing()

    def _open_existing(self) -> EventStore:
        return self._open()

    def _store(self) -> EventStore:
        assert self.store is not None, "reset() first"
        return self.store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def make_events(self, specs: Sequence[EventSpec]) -> list[Any]:
        return [make_event(spec) for spec in specs]

    def append(self, events: list[Any]) -> None:
        self._store().append(events)

    def read_sequence(self, sequence_id: UUID) -> list[Any]:
        return self._store().get_domain_events(sequence_id)

    def read_last(self, sequence_id: UUID, count: int) -> list[Any]:
        return self._store().get_domain_events(sequence_id, limit=count, is_ascending=False)

    def iter_all(self, page_size: int) -> Iterator[Any]:
        return self._store().all_domain_events(page_size=page_size)

    def iter_sequence(self, sequence_id: UUID, page_size: int) -> Iterator[Any]:
        store = self._store()
        after: int | None = None
        while True:
            page = store.get_domain_events(sequence_id, gt=after, limit=page_size)
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].originator_version


class MemorySide(OursSide):
    backend = "memory"

    def _open(self) -> EventStore:
        return EventStore.from_config("memory")


class SQLiteSide(OursSide):
    backend = "sqlite"

    def __init__(self, path: str | None = None) -> None:
        super().__init__()
        self.tmp: TempDir | None = None
        if path is None:
            self.tmp = TempDir("bench-ours-")
            path = self.tmp.file("ours.sqlite3")
        self.path = path

    def _open(self) -> EventStore:
        if self.tmp is not None:
            self.tmp.clear()
        return self._open_existing()

    def _open_existing(self) -> EventStore:
        return EventStore.from_config("sqlalchemy", uri=f"sqlite:///{self.path}")

    def cleanup(self) -> None:
        self.close()
        if self.tmp is not None:
            self.tmp.cleanup()


class PostgresSide(OursSide):
    backend = "postgres"

    def _open(self) -> EventStore:
        import psycopg

        pg = servers.postgres()
        with psycopg.connect(pg.conninfo(pg.ours_db), autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS integer_sequenced_items")
        return self._open_existing()

    def _open_existing(self) -> EventStore:
        return EventStore.from_config("sqlalchemy", uri=servers.postgres().ours_uri)


class CassandraSide(OursSide):
    backend = "cassandra"

    def __init__(self, keyspace: str = "eventstore_bench") -> None:
        super().__init__()
        self.keyspace = keyspace

    def _open(self) -> EventStore:
        store = self._open_existing()
        strategy: Any = store.active_record_strategy
        strategy.datastore.truncate_tables()
        return store

    def _open_existing(self) -> EventStore:
        return EventStore.from_config(
            "cassandra", hosts=servers.cassandra_hosts(), keyspace=self.keyspace
        )
