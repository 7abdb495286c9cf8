"""Topics name classes; DomainEvent is an immutable bag of attributes."""

import os
import subprocess
import sys
import tempfile
from typing import Any
from uuid import uuid4

import pytest

from eventstore_core import (
    DomainEvent,
    EventStore,
    InMemoryActiveRecordStrategy,
    SequencedItem,
    SequencedItemMapper,
    SnapshotStrategy,
    StoredEvent,
    TopicResolutionError,
    allow_module,
    get_topic,
    register_class,
    register_topic,
    resolve_topic,
)
from eventstore_core.snapshots import Snapshot


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
        ("no_such_module_xyz#Thing", "is not imported"),
        ("eventstore_core.events#NoSuchClass", "has no class 'NoSuchClass'"),
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


# -- issue 15 part 1: stored data never chooses what code runs ----------------------------


def _read(topic: str, data: str) -> Any:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper()
    return mapper.from_sequenced_item(SequencedItem(uuid4(), 0, topic, data))


def test_a_stored_topic_cannot_build_an_object_that_deletes_a_file() -> None:
    """Before: ``tempfile#_TemporaryFileCloser`` came back as an object whose finaliser
    deleted the file its crafted state named."""
    with tempfile.NamedTemporaryFile(delete=False) as file:
        victim = file.name
    try:
        state = f'{{"file":"x","name":{victim!r},"delete":true,"close_called":false}}'
        with pytest.raises(TopicResolutionError, match="tempfile#_TemporaryFileCloser"):
            _read("tempfile#_TemporaryFileCloser", state.replace("'", '"'))
        import gc

        gc.collect()
        assert os.path.exists(victim)
    finally:
        os.unlink(victim)


def test_reading_imports_no_module_the_application_did_not_import() -> None:
    """Before: ``this#s`` imported ``this``, which prints the Zen of Python on import."""
    code = (
        "import sys\n"
        "from uuid import uuid4\n"
        "from eventstore_core import SequencedItem, SequencedItemMapper, TopicResolutionError\n"
        "try:\n"
        "    SequencedItemMapper().from_sequenced_item(SequencedItem(uuid4(), 0, 'this#s', '{}'))\n"
        "except TopicResolutionError as error:\n"
        "    print('refused:', 'this#s' in str(error), 'this' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout == "refused: True False\n", done.stdout


@pytest.mark.parametrize(
    "topic",
    [
        "builtins#dict",  # a class, but no event class
        "os#system",  # not a class
        "eventstore_core.topics#_aliases",
        "subprocess#Popen",
        "tempfile#TemporaryDirectory",
    ],
)
def test_only_event_classes_are_resolved(topic: str) -> None:
    with pytest.raises(TopicResolutionError) as caught:
        resolve_topic(topic)
    assert repr(topic) in str(caught.value)


def test_an_allowed_module_is_imported_when_read() -> None:
    code = (
        "import sys\n"
        "from eventstore_core import allow_module, resolve_topic\n"
        "allow_module('eventstore_core.testing')\n"
        "cls = resolve_topic('eventstore_core.testing.snapshot_tests#Deposited')\n"
        "print(cls.__name__, 'eventstore_core.testing.snapshot_tests' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout == "Deposited True\n"


def test_allow_module_needs_a_module_name() -> None:
    with pytest.raises(TypeError):
        allow_module(".relative")


class NotAnEvent:
    pass


@register_class
class RegisteredPlain:
    pass


def test_registered_classes_are_read_and_others_refused() -> None:
    assert resolve_topic(get_topic(RegisteredPlain)) is RegisteredPlain
    with pytest.raises(TopicResolutionError, match="not an event class"):
        resolve_topic(get_topic(NotAnEvent))
    with pytest.raises(TypeError):
        register_class(42)  # type: ignore[call-overload]


def _mapper() -> SequencedItemMapper[Any]:
    return SequencedItemMapper()


def test_a_class_defined_in_a_function_is_refused_at_write_time() -> None:
    class Local(DomainEvent):
        pass

    with pytest.raises(TopicResolutionError, match="inside a function") as caught:
        _mapper().to_sequenced_item(Local(sequence_id=uuid4(), position=0))
    assert "register_class" in str(caught.value)

    register_class(Local, topic=f"{__name__}#LocalGivenATopic")
    item = _mapper().to_sequenced_item(Local(sequence_id=uuid4(), position=0, a=1))
    assert item.topic == f"{__name__}#LocalGivenATopic"
    assert type(_mapper().from_sequenced_item(item)) is Local


def test_a_class_of_main_is_refused_unless_registered() -> None:
    main_class: Any = type("InMain", (DomainEvent,), {"__module__": "__main__"})
    with pytest.raises(TopicResolutionError, match="__main__"):
        _mapper().to_sequenced_item(main_class(sequence_id=uuid4(), position=0))
    register_class(main_class, topic="app.events#InMain")
    assert _mapper().to_sequenced_item(main_class(sequence_id=uuid4(), position=0)).topic == (
        "app.events#InMain"
    )


def test_a_non_event_class_is_refused_at_write_time() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper()
    event: Any = object.__new__(NotAnEvent)
    event.__dict__.update(sequence_id=uuid4(), position=0)
    with pytest.raises(TopicResolutionError, match="not an event class"):
        mapper.to_sequenced_item(event)


def test_snapshots_restore_only_registered_classes() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(
        sequenced_item_class=StoredEvent,
    )
    store = EventStore(mapper, InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent))
    snapshots = SnapshotStrategy(store)
    account_id = uuid4()
    with pytest.raises(TopicResolutionError, match="not an event class"):
        snapshots.take_snapshot(account_id, NotAnEvent(), 0)
    assert snapshots.take_snapshot(account_id, RegisteredPlain(), 1).restore().__class__ is (
        RegisteredPlain
    )
    assert snapshots.take_snapshot(account_id, {"a": 1}, 2).restore() == {"a": 1}
    with tempfile.NamedTemporaryFile(delete=False) as file:
        victim = file.name
    try:
        forged = Snapshot(originator_id=account_id, originator_version=3,
                          topic="tempfile#_TemporaryFileCloser",
                          state={"file": "x", "name": victim, "delete": True,
                                 "close_called": False})
        store.append(forged)
        read = snapshots.get_snapshot(account_id)
        assert read is not None
        with pytest.raises(TopicResolutionError, match="tempfile#_TemporaryFileCloser"):
            read.restore()
        import gc

        gc.collect()
        assert os.path.exists(victim)
    finally:
        os.unlink(victim)
