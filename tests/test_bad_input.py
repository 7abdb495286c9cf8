"""Bad input gets a clear exception naming what is wrong, and nothing is written.

These run on the in-memory backend; the SQLAlchemy and Cassandra plugins repeat the
database-specific ones (corrupt rows) against their real servers.
"""

from typing import Any
from uuid import uuid4

import pytest

from eventstore_core import (
    DataIntegrityError,
    DomainEvent,
    EncodingError,
    EventStore,
    InvalidEventError,
    SequencedItem,
    TopicResolutionError,
)


@pytest.fixture()
def store() -> EventStore:
    return EventStore.from_config("memory")


def event(sequence_id: Any, version: int, **attrs: Any) -> DomainEvent:
    return DomainEvent(originator_id=sequence_id, originator_version=version, **attrs)


def test_event_without_position_attribute(store: EventStore) -> None:
    sequence_id = uuid4()
    bad = DomainEvent(originator_id=sequence_id, foo=1)
    with pytest.raises(InvalidEventError, match="'originator_version'"):
        store.append([event(sequence_id, 0), bad])
    assert store.get_domain_events(sequence_id) == []


def test_attribute_that_cannot_be_encoded(store: EventStore) -> None:
    sequence_id = uuid4()
    with pytest.raises(EncodingError) as caught:
        store.append([event(sequence_id, 0), event(sequence_id, 1, handle=open)])
    message = str(caught.value)
    assert str(sequence_id) in message and "position 1" in message and "'handle'" in message
    assert store.get_domain_events(sequence_id) == []


def test_sequence_id_of_the_wrong_type(store: EventStore) -> None:
    with pytest.raises(InvalidEventError) as caught:
        store.append(event(1234, 0))
    assert "1234" in str(caught.value) and "UUID" in str(caught.value)
    assert list(store.all_domain_events()) == []


@pytest.mark.parametrize("name", ["", "x" * 256, "order-\x001", str(uuid4()),
                                  uuid4().hex, f"{{{uuid4()}}}"])
def test_stream_names_that_cannot_be_stored_everywhere(store: EventStore, name: str) -> None:
    """Named streams (memory declares them): empty, too long, NUL, or a UUID as text."""
    with pytest.raises(InvalidEventError) as caught:
        store.append(event(name, 0))
    assert "stream name" in str(caught.value)
    with pytest.raises(InvalidEventError):
        store.get_domain_events(name)
    assert list(store.all_domain_events()) == []


def test_stored_row_with_corrupt_data_or_unknown_topic(store: EventStore) -> None:
    sequence_id = uuid4()
    strategy = store.active_record_strategy
    strategy.append(SequencedItem(sequence_id, 0, "eventstore_core.events#DomainEvent", "{]"))
    with pytest.raises(DataIntegrityError) as caught:
        store.get_domain_events(sequence_id)
    assert str(sequence_id) in str(caught.value) and "position 0" in str(caught.value)

    other = uuid4()
    strategy.append(SequencedItem(other, 3, "gone.module#Vanished", "{}"))
    with pytest.raises(TopicResolutionError) as caught_topic:
        store.get_domain_events(other)
    assert "gone.module#Vanished" in str(caught_topic.value)
    assert "position 3" in str(caught_topic.value)
    # what was stored is still there, unchanged
    assert strategy.get_items(other) == [SequencedItem(other, 3, "gone.module#Vanished", "{}")]


def test_conflict_names_only_the_positions_that_were_taken(store: EventStore) -> None:
    from eventstore_core import ConcurrencyError

    sequence_id = uuid4()
    strategy = store.active_record_strategy
    strategy.append([SequencedItem(sequence_id, p, "m#T", "{}") for p in (1, 3)])
    with pytest.raises(ConcurrencyError) as caught:
        strategy.append([SequencedItem(sequence_id, p, "m#T", "{}") for p in (0, 1, 2, 3, 4)])
    message = str(caught.value)
    assert f"positions 1, 3 of sequence {sequence_id} are already taken" in message
    assert "0" not in message.replace(str(sequence_id), "")
    assert [item[1] for item in strategy.get_items(sequence_id)] == [1, 3]


def test_same_position_twice_is_an_input_error_not_a_conflict(store: EventStore) -> None:
    sequence_id = uuid4()
    with pytest.raises(InvalidEventError, match="position 0 of sequence .* appears twice"):
        store.append([event(sequence_id, 0), event(sequence_id, 0)])
    assert store.get_domain_events(sequence_id) == []
