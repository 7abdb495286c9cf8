"""A corrupt row met by the feed names its global position, so a subscriber can skip it.

A row whose data is not JSON or does not decrypt, or whose topic names no class, is written
straight into the real table (SQL on SQLite, PostgreSQL and MariaDB; a raw item on memory
and Cassandra). Mapping it from ``read_all`` or a catch-up subscription
(``store.event_of(ordered)``) is a
``DataIntegrityError`` / ``TopicResolutionError`` that names and carries its global position,
and the subscriber goes on past it, or resumes after it. A server that does not answer skips
its backend outside CI.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from eventstore_core import (
    CatchUpSubscription,
    DataIntegrityError,
    DomainEvent,
    EventStore,
    EventStoreError,
    SequencedItem,
    TopicResolutionError,
    plugins,
)
from eventstore_core.aio import AsyncCatchUpSubscription, AsyncEventStore
from eventstore_core.cli.stores import last_global_position

TOPIC = "eventstore_core.events#DomainEvent"
_tmp = tempfile.TemporaryDirectory(prefix="eventstore-feed-corrupt-")
URIS = {
    "sqlite": f"sqlite:///{Path(_tmp.name) / 'feed.db'}",
    "postgresql": os.environ.get(
        "EVENTSTORE_TEST_POSTGRES_URI",
        "postgresql+psycopg://eventstore:eventstore@127.0.0.1:5432/eventstore_test"),
    "mariadb": os.environ.get(
        "EVENTSTORE_TEST_MYSQL_URI",
        "mysql+pymysql://eventstore:eventstore@127.0.0.1:3306/eventstore_test"),
}
#: The value written by "ciphertext": the ciphertext of the sequence's first row.
FIRST_ROWS_CIPHERTEXT = object()
#: what is corrupted -> (column, value written, error class, words of its message)
CORRUPTIONS: dict[str, tuple[str, Any, type[EventStoreError], str]] = {
    "data": ("data", "not json {", DataIntegrityError, "not valid JSON"),
    "topic": ("topic", "gone.module#Vanished", TopicResolutionError, "gone.module#Vanished"),
    "ciphertext": ("data", FIRST_ROWS_CIPHERTEXT, DataIntegrityError,
                   "AES-GCM authentication failed"),
}
KEYSPACE = os.environ.get("EVENTSTORE_CASSANDRA_TEST_KEYSPACE", "eventstore_tests")
#: Cassandra's feed shows an item this long after its append (seconds; see docs/cassandra.md).
FEED = {"feed_delay": 1.0, "feed_write_window": 0.3}
KEY = base64.b64encode(bytes(range(32))).decode()


def _open(backend: str, corruption: str) -> EventStore:
    cipher: dict[str, Any] = {}
    if corruption == "ciphertext":
        if "aes" not in plugins.ciphers():
            pytest.skip("eventstore-aes is not installed")
        cipher = {"cipher": "aes", "cipher_key": KEY}
    if backend == "memory":
        return EventStore.from_config("memory", **cipher)
    try:
        if backend == "cassandra":
            store = EventStore.from_config("cassandra", keyspace=KEYSPACE, **FEED, **cipher)
        else:
            store = EventStore.from_config("sqlalchemy", uri=URIS[backend], **cipher)
        store.get_domain_events(uuid4())  # reaches the server
    except EventStoreError as error:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            raise
        pytest.skip(f"{backend} is not available here: {error}")
    return store


def _store_with_a_corrupt_row(backend: str, corruption: str) -> tuple[EventStore, Any, int, int]:
    """A store whose feed above ``start`` holds a sequence of 3 items, the middle one
    corrupt: (store, its sequence id, start, the corrupt item's global position)."""
    store = _open(backend, corruption)
    column, value, _, _ = CORRUPTIONS[corruption]
    strategy = store.active_record_strategy
    start = last_global_position(store)
    sequence_id = uuid4()
    if backend in ("memory", "cassandra"):  # the corrupt item written as it is stored
        store.append(DomainEvent(originator_id=sequence_id, originator_version=0, pin="4111"))
        if value is FIRST_ROWS_CIPHERTEXT:
            value = strategy.get_items(sequence_id)[0].data
        fields: dict[str, Any] = {"sequence_id": sequence_id, "position": 1, "topic": TOPIC,
                                  "data": "{}"}
        fields[column] = value
        strategy.append(SequencedItem(**fields))
        store.append(DomainEvent(originator_id=sequence_id, originator_version=2))
    else:
        import sqlalchemy

        store.append([DomainEvent(originator_id=sequence_id, originator_version=v, pin="4111")
                      for v in range(3)])
        first, middle = (o.global_position for o in strategy.read_all(start, 2))
        engine = sqlalchemy.create_engine(URIS[backend])
        try:
            with engine.begin() as connection:
                if value is FIRST_ROWS_CIPHERTEXT:
                    value = connection.execute(sqlalchemy.text(
                        "SELECT data FROM integer_sequenced_items WHERE global_position = :at"
                    ), {"at": first}).scalar_one()
                updated = connection.execute(sqlalchemy.text(
                    f"UPDATE integer_sequenced_items SET {column} = :value "
                    "WHERE global_position = :at"), {"value": value, "at": middle})
                assert updated.rowcount == 1
        finally:
            engine.dispose()
    if backend == "cassandra":
        time.sleep(FEED["feed_delay"] + 0.2)
    ordered = strategy.read_all(start, 10)
    assert [o.item[1] for o in ordered] == [0, 1, 2]
    return store, sequence_id, start, ordered[1].global_position


def _check(error: EventStoreError, corruption: str, sequence_id: Any, at: int) -> None:
    _, _, cls, words = CORRUPTIONS[corruption]
    assert type(error) is cls
    message = str(error)
    assert f"global position {at}" in message and words in message
    assert str(sequence_id) in message and "position 1" in message
    assert "4111" not in message  # (no plaintext of another row)
    assert (error.global_position, error.sequence_id, error.position) == (  # type: ignore[attr-defined]
        at, sequence_id, 1)


BACKENDS = ["memory", *URIS, "cassandra"]


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_read_all_names_the_global_position_of_a_corrupt_row(backend: str,
                                                             corruption: str) -> None:
    store, sequence_id, start, at = _store_with_a_corrupt_row(backend, corruption)
    page = store.active_record_strategy.read_all(start, 10)
    assert store.event_of(page[0]).originator_version == 0
    with pytest.raises(EventStoreError) as caught:
        store.events_of(page)
    _check(caught.value, corruption, sequence_id, at)
    with pytest.raises(EventStoreError) as caught:
        store.envelope_of(page[1])
    _check(caught.value, corruption, sequence_id, at)
    # the item read by its sequence names its position, and carries it, without a global one
    with pytest.raises(EventStoreError) as by_sequence:
        store.get_domain_events(sequence_id)
    assert by_sequence.value.position == 1  # type: ignore[attr-defined]
    assert by_sequence.value.global_position is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_subscriber_skips_a_corrupt_row_deliberately(backend: str, corruption: str) -> None:
    store, sequence_id, start, at = _store_with_a_corrupt_row(backend, corruption)
    strategy = store.active_record_strategy
    subscription = CatchUpSubscription(strategy, after=start, timeout=0.5, poll_interval=0.05)
    versions, skipped = [], []
    for ordered in subscription:
        try:
            versions.append(store.event_of(ordered).originator_version)
        except (DataIntegrityError, TopicResolutionError) as error:
            _check(error, corruption, sequence_id, at)
            skipped.append(error.global_position)
    assert versions == [0, 2] and skipped == [at]
    # a subscriber that stopped at it resumes after it
    with pytest.raises(EventStoreError) as caught:
        for ordered in CatchUpSubscription(strategy, after=start, timeout=0.2):
            store.event_of(ordered)
    _check(caught.value, corruption, sequence_id, at)
    resumed = CatchUpSubscription(strategy, after=caught.value.global_position,  # type: ignore[attr-defined]
                                  timeout=0.2)
    assert [store.event_of(o).originator_version for o in resumed] == [2]


@pytest.mark.parametrize("corruption", ["data", "topic"])  # (ciphertexts: as sync)
@pytest.mark.parametrize("backend", ["memory", "cassandra"])  # (those with an async strategy)
def test_the_async_subscription_names_the_global_position_too(backend: str,
                                                              corruption: str) -> None:
    column, value, _, _ = CORRUPTIONS[corruption]
    if backend == "cassandra":
        _open("cassandra", corruption).close()  # (skipped if the server does not answer)

    async def follow() -> None:
        store = (AsyncEventStore.from_config("memory") if backend == "memory" else
                 AsyncEventStore.from_config("cassandra", keyspace=KEYSPACE, **FEED))
        strategy = store.active_record_strategy
        start = 0
        while page := await strategy.read_all(start, 1000):
            start = page[-1].global_position
        sequence_id = uuid4()
        fields: dict[str, Any] = {"sequence_id": sequence_id, "position": 1, "topic": TOPIC,
                                  "data": "{}"}
        fields[column] = value
        await store.append(DomainEvent(originator_id=sequence_id, originator_version=0))
        await strategy.append(SequencedItem(**fields))
        await store.append(DomainEvent(originator_id=sequence_id, originator_version=2))
        versions, skipped = [], []
        async for ordered in AsyncCatchUpSubscription(strategy, after=start, timeout=2.5,
                                                      poll_interval=0.1):
            try:
                versions.append(store.event_of(ordered).originator_version)
            except (DataIntegrityError, TopicResolutionError) as error:
                _check(error, corruption, sequence_id, error.global_position or 0)
                skipped.append(error.global_position)
            if len(versions) == 2:
                break
        at = (await strategy.read_all(start, 10))[1].global_position
        assert versions == [0, 2] and skipped == [at]
        await store.close()

    asyncio.run(follow())
