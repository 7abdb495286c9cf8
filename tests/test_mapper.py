"""SequencedItemMapper: events to items and back, with and without encryption."""

from typing import Any
from uuid import uuid4

import pytest

from eventstore_core import (
    DataIntegrityError,
    DomainEvent,
    EncodingError,
    InvalidEventError,
    SequencedItem,
    SequencedItemMapper,
    StoredEvent,
    TopicResolutionError,
    register_class,
)
from eventstore_core.testing.snapshot_tests import ReversingTestCipher
from eventstore_core.topics import get_topic

TOPIC = "eventstore_core.events#DomainEvent"


class Secret(DomainEvent):
    __always_encrypt__ = True


def test_default_attribute_names_follow_the_item_fields() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper()
    sequence_id = uuid4()
    item = SequencedItem(sequence_id, 3, TOPIC, '{"foo":"bar"}')
    event = mapper.from_sequenced_item(item)
    assert (event.sequence_id, event.position, event.foo) == (sequence_id, 3, "bar")
    assert mapper.to_sequenced_item(event) == item


def test_stored_event_fields_and_custom_attribute_names() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(sequenced_item_class=StoredEvent)
    item = StoredEvent(uuid4(), 0, TOPIC, '{"foo":"bar"}')
    event = mapper.from_sequenced_item(item)
    assert event.originator_id == item.originator_id
    assert mapper.to_sequenced_item(event) == item

    renamed: SequencedItemMapper[Any] = SequencedItemMapper(
        sequence_id_attr_name="stream", position_attr_name="version"
    )
    event = DomainEvent(stream=uuid4(), version=7, foo=1)
    assert renamed.to_sequenced_item(event).position == 7


def test_mapping_is_deterministic() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper()
    event = DomainEvent(sequence_id=uuid4(), position=0, b=2, a=1, nested={"y": 1, "x": 2})
    item = mapper.to_sequenced_item(event)
    assert mapper.to_sequenced_item(mapper.from_sequenced_item(item)) == item
    assert mapper.from_sequenced_item(item) == event


def test_always_encrypt_hides_the_state() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(
        cipher=ReversingTestCipher(), always_encrypt=True
    )
    event = DomainEvent(sequence_id=uuid4(), position=0, foo="bar")
    item = mapper.to_sequenced_item(event)
    assert "foo" not in item.data and "bar" not in item.data
    assert mapper.from_sequenced_item(item) == event


def test_an_event_class_can_ask_to_be_encrypted() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(cipher=ReversingTestCipher())
    secret = Secret(sequence_id=uuid4(), position=0, card="4111")
    plain = DomainEvent(sequence_id=uuid4(), position=0, card="4111")
    assert "4111" not in mapper.to_sequenced_item(secret).data
    assert "4111" in mapper.to_sequenced_item(plain).data
    assert mapper.from_sequenced_item(mapper.to_sequenced_item(secret)) == secret
    with pytest.raises(EncodingError, match="no cipher"):
        SequencedItemMapper().to_sequenced_item(secret)


def test_always_encrypt_without_cipher_is_refused() -> None:
    with pytest.raises(ValueError, match="cipher"):
        SequencedItemMapper(always_encrypt=True)


def test_event_without_position_attribute_names_it() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(
        sequence_id_attr_name="originator_id", position_attr_name="originator_version"
    )
    with pytest.raises(InvalidEventError) as caught:
        mapper.to_sequenced_item(DomainEvent(originator_id=uuid4(), foo=1))
    assert "'originator_version'" in str(caught.value) and "position" in str(caught.value)


def test_unencodable_attribute_names_sequence_position_and_attribute() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper()
    sequence_id = uuid4()
    with pytest.raises(EncodingError) as caught:
        mapper.to_sequenced_item(DomainEvent(sequence_id=sequence_id, position=4, lock=object()))
    message = str(caught.value)
    assert str(sequence_id) in message and "position 4" in message and "'lock'" in message


def test_corrupt_data_names_sequence_and_position() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper()
    sequence_id = uuid4()
    for data in ('{"foo": ', "[1, 2]"):
        with pytest.raises(DataIntegrityError) as caught:
            mapper.from_sequenced_item(SequencedItem(sequence_id, 9, TOPIC, data))
        assert str(sequence_id) in str(caught.value) and "position 9" in str(caught.value)


def test_topic_that_names_nothing_names_sequence_and_position() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper()
    sequence_id = uuid4()
    with pytest.raises(TopicResolutionError) as caught:
        mapper.from_sequenced_item(SequencedItem(sequence_id, 2, "gone.module#Event", "{}"))
    assert str(sequence_id) in str(caught.value) and "gone.module#Event" in str(caught.value)


def test_altered_ciphertext_is_a_data_integrity_error() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(
        cipher=ReversingTestCipher(), always_encrypt=True
    )
    item = mapper.to_sequenced_item(DomainEvent(sequence_id=uuid4(), position=1, foo="bar"))
    with pytest.raises(DataIntegrityError, match="position 1"):
        mapper.from_sequenced_item(item._replace(data="!!" + item.data))


class Upgraded(DomainEvent):
    """Rebuilds its stored events its own way (an upcast of an old attribute name)."""

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> DomainEvent:
        if "old_name" in state:
            state["new_name"] = state.pop("old_name")
        return super()._from_state(state)


@register_class
class PlainObject:
    """Not a DomainEvent (so registered): rebuilt without __init__, its attributes set."""

    def __init__(self) -> None:
        raise AssertionError("__init__ is not called on the way back")


def test_a_class_own_from_state_is_used_and_plain_classes_work() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper()
    sequence_id = uuid4()
    for _ in range(2):  # the second time from the mapper's cache of topics
        event = mapper.from_sequenced_item(
            SequencedItem(sequence_id, 1, get_topic(Upgraded), '{"old_name":1}')
        )
        assert type(event) is Upgraded
        assert event.__dict__ == {"new_name": 1, "sequence_id": sequence_id, "position": 1}
        plain = mapper.from_sequenced_item(
            SequencedItem(sequence_id, 2, get_topic(PlainObject), '{"a":[1]}')
        )
        assert type(plain) is PlainObject
        assert plain.__dict__ == {"a": [1], "sequence_id": sequence_id, "position": 2}


# -- issue 15 part 5: no secret or plaintext in messages and reprs ------------------------


def test_messages_never_show_the_state_of_an_event() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(
        sequence_id_attr_name="originator_id", position_attr_name="originator_version",
        cipher=ReversingTestCipher(), always_encrypt=True,
    )
    with pytest.raises(InvalidEventError) as caught:
        mapper.to_sequenced_item(DomainEvent(originator_id=uuid4(), card="4111-1111"))
    assert "4111" not in str(caught.value) and "card" in str(caught.value)

    class Card:
        def __repr__(self) -> str:
            return "Card(4111-1111)"

    with pytest.raises(EncodingError) as encoding:
        mapper.to_sequenced_item(
            DomainEvent(originator_id=uuid4(), originator_version=0, card=Card())
        )
    assert "4111" not in str(encoding.value) and "'card'" in str(encoding.value)


def test_the_repr_of_an_event_stored_encrypted_shows_no_values() -> None:
    secret = Secret(sequence_id="s", position=0, card="4111-1111")
    assert "4111" not in repr(secret) and "card" in repr(secret)
    assert "4111" in repr(DomainEvent(card="4111"))  # plain events show their values
