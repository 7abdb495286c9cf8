"""The same bad input gets the same exception and the same message on every backend.

The core checks the arguments of reads and writes before a backend sees them, so memory,
SQLite, PostgreSQL, MariaDB and Cassandra must agree word for word. The servers come from the
variables the plugins' tests read (``EVENTSTORE_TEST_POSTGRES_URI``, ...); a server that does
not answer skips its backend on a developer's machine and fails in CI.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from eventstore_core import (
    CatchUpSubscription,
    DomainEvent,
    EventStore,
    EventStoreError,
    SequencedItem,
)

SEQUENCE = UUID("00000000-0000-4000-8000-000000000009")
TOPIC = "eventstore_core.events#DomainEvent"
_tmp = tempfile.TemporaryDirectory(prefix="eventstore-same-answer-")


def _store_options() -> dict[str, dict[str, Any]]:
    return {
        "memory": {"backend": "memory"},
        "sqlite": {"backend": "sqlalchemy", "uri": f"sqlite:///{Path(_tmp.name) / 'same.db'}"},
        "postgresql": {"backend": "sqlalchemy", "uri": os.environ.get(
            "EVENTSTORE_TEST_POSTGRES_URI",
            "postgresql+psycopg://eventstore:eventstore@127.0.0.1:5432/eventstore_test")},
        "mariadb": {"backend": "sqlalchemy", "uri": os.environ.get(
            "EVENTSTORE_TEST_MYSQL_URI",
            "mysql+pymysql://eventstore:eventstore@127.0.0.1:3306/eventstore_test")},
        "cassandra": {"backend": "cassandra", "keyspace": os.environ.get(
            "EVENTSTORE_CASSANDRA_TEST_KEYSPACE", "eventstore_tests")},
    }


BACKENDS = list(_store_options())


def _open(name: str) -> EventStore:
    options = dict(_store_options()[name])
    backend = options.pop("backend")
    try:
        store = EventStore.from_config(backend, **options)
        store.get_domain_events(SEQUENCE)  # reaches the server
    except EventStoreError as error:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            raise
        pytest.skip(f"{name} is not available here: {error}")
    return store


def _item(position: Any) -> SequencedItem:
    return SequencedItem(SEQUENCE, position, TOPIC, "{}")


#: name -> what it does with a store. Each must raise.
CASES: dict[str, Callable[[EventStore], Any]] = {
    "sequence id of another type": lambda s: s.active_record_strategy.get_items(12345),
    "gt is text": lambda s: s.active_record_strategy.get_items(SEQUENCE, gt="a"),
    "lt is text": lambda s: s.active_record_strategy.get_items(SEQUENCE, lt="a"),
    "gte is a float": lambda s: s.active_record_strategy.get_items(SEQUENCE, gte=1.5),
    "lte is a bool": lambda s: s.active_record_strategy.get_items(SEQUENCE, lte=True),
    "limit is -1": lambda s: s.active_record_strategy.get_items(SEQUENCE, limit=-1),
    "limit is text": lambda s: s.active_record_strategy.get_items(SEQUENCE, limit="3"),
    "get_item with a text position": lambda s: s.get_domain_event(SEQUENCE, "0"),
    "events read with gt text": lambda s: s.get_domain_events(SEQUENCE, gt="a"),
    "page_size 0": lambda s: s.all_domain_events(page_size=0),
    "page_size text": lambda s: s.active_record_strategy.all_items(page_size="10"),
    "append(None)": lambda s: s.append(None),
    "append({})": lambda s: s.append({}),
    "append([event, None])": lambda s: s.append(
        [DomainEvent(originator_id=SEQUENCE, originator_version=0), None]),
    "item position is text": lambda s: s.active_record_strategy.append(_item("0")),
    "same position twice in one list": lambda s: s.active_record_strategy.append(
        [_item(0), _item(0)]),
    "NUL in a topic": lambda s: s.active_record_strategy.append(
        SequencedItem(SEQUENCE, 0, "mod#Cls\x00", "{}")),
    "NUL in data": lambda s: s.active_record_strategy.append(
        [_item(0), SequencedItem(SEQUENCE, 1, "mod#Cls", "{\"a\": \"\x00\"}")]),
    "read_all after -1": lambda s: s.active_record_strategy.read_all(after=-1),
    "read_all after text": lambda s: s.active_record_strategy.read_all(after="0"),
    "read_all after a bool": lambda s: s.active_record_strategy.read_all(after=True),
    "read_all limit -1": lambda s: s.active_record_strategy.read_all(limit=-1),
    "read_all limit None": lambda s: s.active_record_strategy.read_all(limit=None),
}


@pytest.fixture(scope="module")
def answers() -> Iterator[dict[str, dict[str, tuple[str, str]]]]:
    """backend -> case -> (exception class, message), filled as the tests run."""
    yield {}


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_input_gets_the_same_answer(
    backend: str, answers: dict[str, dict[str, tuple[str, str]]]
) -> None:
    store = _open(backend)
    got: dict[str, tuple[str, str]] = {}
    try:
        for case, call in CASES.items():
            with pytest.raises(EventStoreError) as caught:
                call(store)
                pytest.fail(f"{case}: no error")
            got[case] = (type(caught.value).__name__, str(caught.value))
        assert store.get_domain_events(SEQUENCE) == [], "bad input wrote something"
    finally:
        store.close()
    assert got["same position twice in one list"][0] == "InvalidEventError"
    assert "'a'" in got["gt is text"][1] and "gt=" in got["gt is text"][1]
    answers[backend] = got
    if backend != "memory":
        if "memory" not in answers:
            answers["memory"] = _answers_of("memory")
        for case in CASES:
            assert _comparable(case, got[case]) == _comparable(case, answers["memory"][case]), \
                case


def _comparable(case: str, answer: tuple[str, str]) -> tuple[str, str]:
    """The answer as every backend gives it word for word. Which sequence id types a
    backend takes (UUID, or also str where it declares named_streams) ends that message."""
    if case == "sequence id of another type":
        return answer[0], answer[1].split(" or ")[0]
    return answer

def _answers_of(backend: str) -> dict[str, tuple[str, str]]:
    store = _open(backend)
    got = {}
    for case, call in CASES.items():
        with pytest.raises(EventStoreError) as caught:
            call(store)
        got[case] = (type(caught.value).__name__, str(caught.value))
    return got


def test_subscription_refuses_page_size_0() -> None:
    store = _open("memory")
    with pytest.raises(EventStoreError, match="page_size must be an int of at least 1, got 0"):
        CatchUpSubscription(store.active_record_strategy, page_size=0)
    with pytest.raises(EventStoreError, match="after must be"):
        CatchUpSubscription(store.active_record_strategy, after=-1)
