"""Topics name classes; DomainEvent is an immutable bag of attributes."""

import pytest

from eventstore_core import (
    DomainEvent,
    TopicResolutionError,
    get_topic,
    register_topic,
    resolve_topic,
)


class Outer:
    class Happened(DomainEvent):
        pass


def test_topic_is_module_and_qualified_name() -> None:
    assert get_topic(DomainEvent) == "eventstore_core.events#DomainEvent"
    assert get_topic(Outer.Happened) == f"{__name__}#Outer.Happened"
    assert resolve_topic(get_topic(Outer.Happened)) is Outer.Happened


@pytest.mark.parametrize(
    "topic, fragment",
    [
        ("no_such_module_xyz#Thing", "cannot be imported"),
        ("eventstore_core.events#NoSuchClass", "has no 'NoSuchClass'"),
        ("eventstore_core.events", "module#QualifiedName"),
        ("#Thing", "module#QualifiedName"),
    ],
)
def test_topic_that_names_nothing_is_a_clear_error(topic: str, fragment: str) -> None:
    with pytest.raises(TopicResolutionError) as caught:
        resolve_topic(topic)
    assert topic in str(caught.value)
    assert fragment in str(caught.value)


def test_renamed_class_keeps_its_old_topic() -> None:
    register_topic("old_app.events#Renamed", Outer.Happened)
    assert resolve_topic("old_app.events#Renamed") is Outer.Happened


def test_domain_event_attributes_equality_and_repr() -> None:
    event = DomainEvent(originator_id="a", originator_version=1, foo="bar")
    assert event.foo == "bar"
    assert event == DomainEvent(originator_id="a", originator_version=1, foo="bar")
    assert event != DomainEvent(originator_id="a", originator_version=1, foo="baz")
    assert event != Outer.Happened(originator_id="a", originator_version=1, foo="bar")
    assert repr(event) == "DomainEvent(foo='bar', originator_id='a', originator_version=1)"


def test_domain_event_is_immutable() -> None:
    event = DomainEvent(foo="bar")
    with pytest.raises(AttributeError, match="immutable"):
        event.foo = "baz"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del event.foo
    assert event.foo == "bar"
