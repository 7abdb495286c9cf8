"""EventStore.from_config assembles a store from installed plugins, options and variables."""

import base64
import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest

from eventstore_core import (
    ConfigurationError,
    DatastoreError,
    DomainEvent,
    EventStore,
    EventStoreError,
    StoredEvent,
    plugins,
)
from eventstore_core.config import Option, resolve_options
from eventstore_core.urls import StoreURL


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
    monkeypatch.setattr(plugins, "backends", dict)
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


# -- configuration strings -------------------------------------------------------------------
SERVERS = {
    "postgresql": os.environ.get(
        "EVENTSTORE_TEST_POSTGRES_URI",
        "postgresql+psycopg://eventstore:eventstore@127.0.0.1:5432/eventstore_test"),
    "mysql": os.environ.get(
        "EVENTSTORE_TEST_MYSQL_URI",
        "mysql+pymysql://eventstore:eventstore@127.0.0.1:3306/eventstore_test"),
}
KEY = base64.b64encode(bytes(range(32))).decode()  # has "+" and "/": percent-encoded below


def _url_of(sqlalchemy_uri: str, scheme: str) -> str:
    """The test server's URL written as a user would: without the driver."""
    return scheme + "://" + sqlalchemy_uri.partition("://")[2]


def _round_trip(url: str, **options: Any) -> tuple[EventStore, Any]:
    try:
        store = EventStore.from_config(url, **options)
        sequence_id = uuid4()
        store.append(DomainEvent(originator_id=sequence_id, originator_version=0, card="4111"))
    except DatastoreError as error:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            raise
        pytest.skip(f"server not available: {error}")
    assert [e.card for e in store.get_domain_events(sequence_id)] == ["4111"]
    return store, sequence_id


def test_url_forms_on_the_real_servers(tmp_path: Path) -> None:
    key = quote(KEY, safe="")
    urls = {
        "sqlite": f"sqlite:///{tmp_path / 'app.db'}",
        "postgresql": _url_of(SERVERS["postgresql"], "postgresql")
        + f"?cipher=aes&cipher_key={key}",
        "mysql": _url_of(SERVERS["mysql"], "mysql"),
        "mariadb": _url_of(SERVERS["mysql"], "mariadb") + "?record=stored_event",
        "cassandra": "cassandra://127.0.0.1,127.0.0.1:9042/"
        + os.environ.get("EVENTSTORE_CASSANDRA_TEST_KEYSPACE", "eventstore_tests"),
        "memory": "memory://",
    }
    expected = {"sqlite": "SQLAlchemy", "postgresql": "SQLAlchemy", "mysql": "SQLAlchemy",
                "mariadb": "SQLAlchemy", "cassandra": "Cassandra", "memory": "InMemory"}
    for name, url in urls.items():
        store, sequence_id = _round_trip(url)
        strategy = store.active_record_strategy
        assert type(strategy).__name__.startswith(expected[name]), name
        if name == "postgresql":  # the cipher came from the query: the row is ciphertext
            assert type(store.sequenced_item_mapper.cipher).__name__ == "AESCipher"
            assert "4111" not in strategy.get_items(sequence_id)[0][3]
        if name == "mariadb":
            assert strategy.sequenced_item_class is StoredEvent
        store.close()


def test_url_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVENTSTORE_URL", f"sqlite:///{tmp_path / 'env.db'}?record=timestamp")
    store = EventStore.from_config(position_attr_name="timestamp")
    assert store.active_record_strategy.position_type is Decimal
    store.close()
    monkeypatch.setenv("EVENTSTORE_BACKEND", "memory")
    with pytest.raises(ConfigurationError, match="EVENTSTORE_URL and EVENTSTORE_BACKEND"):
        EventStore.from_config()
    # a name given to from_config wins over both variables
    assert type(EventStore.from_config("memory").active_record_strategy).__name__ == (
        "InMemoryActiveRecordStrategy")


@pytest.mark.parametrize(("url", "names"), [
    ("memory://?colour=blue", ["'colour'", "cipher="]),
    ("memory://somewhere", ["memory://"]),
    ("nosuchdb://h/x", ["nosuchdb://", "postgresql://", "sqlite://"]),
    ("sqlite:///x.db?sqlite_busy_timeout=soon", ["sqlite_busy_timeout='soon'"]),
    ("postgresql://u@h:99999/db", ["port '99999'"]),
    ("postgresql://u@h/db?record", ["'record'", "name=value"]),
    ("memory://?codec=json&codec=json", ["'codec' is given twice"]),
    ("cassandra:///shop", ["names no host"]),
    ("cassandra://a:1,b:2/shop", ["different ports"]),
    ("cassandra://a/shop/more", ["one keyspace"]),
])
def test_bad_urls_name_the_part_that_is_wrong(url: str, names: list[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        EventStore.from_config(url)
    for name in names:
        assert name in str(caught.value)


def test_url_options_and_keywords_are_given_once() -> None:
    with pytest.raises(ConfigurationError, match="both in the configuration string"):
        EventStore.from_config("sqlite:///x.db?record=integer", record="timestamp")


def test_backend_name_and_keyword_options_keep_working(tmp_path: Path) -> None:
    store, _ = _round_trip("sqlalchemy", uri=f"sqlite:///{tmp_path / 'named.db'}")
    store.close()


SECRETS = ("s3cr3t-pw", quote(KEY, safe=""), KEY)


@pytest.mark.parametrize("url", [
    "postgresql://user:s3cr3t-pw@127.0.0.1:1/db?colour=blue",
    "postgresql://user:s3cr3t-pw@127.0.0.1:1/db?cipher=aes&cipher_key={key}&colour=blue",
    "nosuchdb://user:s3cr3t-pw@h/db?cipher_key={key}",
    "memory://user:s3cr3t-pw@h?cipher_key={key}",
    "cassandra://user:s3cr3t-pw@a:1,b:2/shop?cipher_key={key}",
    "postgresql://user:s3cr3t-pw@h:notaport/db",
    "postgresql://user:s3cr3t-pw@127.0.0.1:1/db?cipher=aes&cipher_key=not-base64!",
    "memory://?cipher=rot13&cipher_key={key}",
])
def test_secrets_in_a_url_never_reach_a_message(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigurationError) as caught:
        EventStore.from_config(url.format(key=quote(KEY, safe="")))
    shown = str(caught.value) + repr(caught.value) + caplog.text
    for secret in SECRETS:
        assert secret not in shown
    assert "s3cr3t" not in shown


def test_parsed_url_hides_its_secrets() -> None:
    url = StoreURL.parse(f"postgresql+psycopg://me:s3cr3t-pw@h1:5432,h2/db?cipher_key={KEY}")
    assert url.password == "s3cr3t-pw" and url.options()["cipher_key"] == KEY  # "+" kept
    assert [h.name for h in url.hosts] == ["h1", "h2"] and url.hosts[0].port == 5432
    for shown in (repr(url), str(url), url.redacted, f"{url}"):
        assert "s3cr3t" not in shown and KEY not in shown and "***" in shown


def test_database_errors_from_a_url_hide_the_password() -> None:
    # nothing listens on port 1: the backend's error names the server, not the password
    with pytest.raises(EventStoreError) as caught:
        EventStore.from_config("postgresql://user:s3cr3t-pw@127.0.0.1:1/db")
    assert "127.0.0.1" in str(caught.value)
    assert "s3cr3t" not in str(caught.value) and "s3cr3t" not in repr(caught.value)


def test_memory_record_option_gives_each_item_class() -> None:
    from decimal import Decimal

    from eventstore_core import ConfigurationError, EnvelopedItem, StoredEvent

    enveloped = EventStore.from_config("memory", record="enveloped")
    assert enveloped.active_record_strategy.sequenced_item_class is EnvelopedItem
    assert enveloped.sequenced_item_mapper.enveloped
    assert EventStore.from_config("memory://?record=stored_event") \
        .active_record_strategy.sequenced_item_class is StoredEvent
    assert EventStore.from_config("memory", record="timestamp") \
        .active_record_strategy.position_type is Decimal
    with pytest.raises(ConfigurationError, match="record='x' is not one of"):
        EventStore.from_config("memory", record="x")
