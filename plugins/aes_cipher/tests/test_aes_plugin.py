"""The plugin: its hook registers the ciphers, and the distribution declares its entry point."""

from __future__ import annotations

import base64
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import eventstore_core
import pluggy
import pytest
from eventstore_core import hookspecs
from eventstore_core.exceptions import ConfigurationError

import eventstore_aes
from eventstore_aes import AESCipher, plugin

KEY = b"01234567890123456789012345678901"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []

    def __call__(self, name: str, factory: Callable[..., Any], **kwargs: Any) -> None:
        self.calls.append((name, factory, kwargs))

    def factories(self) -> dict[str, Callable[..., Any]]:
        return {name: factory for name, factory, _ in self.calls}


def test_register_ciphers_registers_aes_and_aes_pycryptodome() -> None:
    record = Recorder()
    plugin.register_ciphers(record)
    assert [name for name, _, _ in record.calls] == ["aes", "aes-pycryptodome"]
    assert all(kwargs == {} for _, _, kwargs in record.calls)  # the manager knows the distribution


@pytest.mark.parametrize(
    ("name", "implementation"), [("aes", "cryptography"), ("aes-pycryptodome", "pycryptodome")]
)
def test_factories_take_a_raw_or_base64_key(name: str, implementation: str) -> None:
    record = Recorder()
    plugin.register_ciphers(record)
    factory = record.factories()[name]
    cipher = factory(KEY)
    assert isinstance(cipher, AESCipher) and cipher.implementation == implementation
    from_text = factory(base64.b64encode(KEY).decode())
    assert from_text.decrypt(cipher.encrypt("one key, two spellings")) == ("one key, two spellings")
    with pytest.raises(ConfigurationError, match="16, 24 or 32 bytes"):
        factory(b"short")


def test_hook_matches_the_core_hookspec() -> None:
    """Loaded by a pluggy manager with the core's specs, as the core's plugin manager does."""
    assert hasattr(plugin.register_ciphers, "eventstore_impl")
    manager = pluggy.PluginManager("eventstore")
    manager.add_hookspecs(hookspecs)
    manager.register(plugin, name="aes")
    manager.check_pending()
    record = Recorder()
    manager.hook.register_ciphers(register=record)
    assert set(record.factories()) == {"aes", "aes-pycryptodome"}
    assert plugin.register_ciphers.__module__ == "eventstore_aes.plugin"
    assert eventstore_core.hookimpl is hookspecs.hookimpl


def test_entry_point_is_declared() -> None:
    found = [ep for ep in entry_points(group="eventstore") if ep.name == "aes"]
    assert len(found) == 1, "install the plugin: pip install -e 'plugins/aes_cipher[pycryptodome]'"
    (entry_point,) = found
    assert entry_point.value == "eventstore_aes.plugin"
    assert entry_point.dist is not None and entry_point.dist.name == "eventstore-aes"
    assert entry_point.load() is plugin


def test_everything_is_importable_from_the_package_top() -> None:
    for name in eventstore_aes.__all__:
        assert hasattr(eventstore_aes, name)
