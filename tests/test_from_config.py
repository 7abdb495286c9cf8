"""EventStore.from_config assembles a store from installed plugins, options and variables."""

from uuid import uuid4

import pytest

from eventstore_core import ConfigurationError, DomainEvent, EventStore, plugins
from eventstore_core.config import Option, resolve_options


def test_memory_backend_by_name() -> None:
    store = EventStore.from_config("memory")
    sequence_id = uuid4()
    store.append(DomainEvent(originator_id=sequence_id, originator_version=0, foo="bar"))
    assert [e.foo for e in store.get_domain_events(sequence_id)] == ["bar"]


def test_backend_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSTORE_BACKEND", "memory")
    store = EventStore.from_config()
    assert type(store.active_record_strategy).__name__ == "InMemoryActiveRecordStrategy"


def test_unknown_backend_lists_what_is_installed() -> None:
    with pytest.raises(ConfigurationError) as caught:
        EventStore.from_config("nosuchdb")
    message = str(caught.value)
    assert "'nosuchdb'" in message and "memory" in message and "entry-point group" in message


def test_unknown_known_plugin_says_which_distribution_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plugins, "backends", lambda: {})
    with pytest.raises(ConfigurationError, match="pip install eventstore-cassandra"):
        EventStore.from_config("cassandra")


def test_unknown_option_names_what_is_accepted() -> None:
    with pytest.raises(ConfigurationError) as caught:
        EventStore.from_config("memory", colour="blue")
    assert "colour" in str(caught.value)


def test_cipher_key_without_cipher_and_cipher_without_key() -> None:
    with pytest.raises(ConfigurationError, match="EVENTSTORE_CIPHER"):
        EventStore.from_config("memory", cipher_key=b"k" * 32)
    with pytest.raises(ConfigurationError, match="no cipher named 'rot13'"):
        EventStore.from_config("memory", cipher="rot13", cipher_key=b"k" * 32)


def test_unknown_codec() -> None:
    with pytest.raises(ConfigurationError, match="codec named 'xml'"):
        EventStore.from_config("memory", codec="xml")


def test_resolve_options_reads_arguments_then_environment_then_default() -> None:
    options = (
        Option("uri", "where", default="sqlite:///x"),
        Option("port", "port", default=1, parse=int),
        Option("keyspace", "keyspace"),
    )
    values = resolve_options("test", options, {"keyspace": "k"}, {"EVENTSTORE_PORT": "9042"})
    assert values == {"uri": "sqlite:///x", "port": 9042, "keyspace": "k"}
    with pytest.raises(ConfigurationError) as caught:
        resolve_options("backend 'x'", options, {}, {})
    message = str(caught.value)
    assert "keyspace=" in message and "EVENTSTORE_KEYSPACE" in message
    assert "EVENTSTORE_URI" in message and "EVENTSTORE_PORT" in message
    with pytest.raises(ConfigurationError, match="EVENTSTORE_PORT='nine'"):
        resolve_options("test", options, {"keyspace": "k"}, {"EVENTSTORE_PORT": "nine"})
