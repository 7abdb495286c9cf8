"""The plugin manager: finds installed plugins once, and builds name -> factory registries.

Plugins are modules registered under the ``eventstore`` entry-point group (and the built-ins
in ``DEFAULT_PLUGINS``). They are loaded lazily, the first time a registry is asked for.
Set ``EVENTSTORE_LOAD_PLUGINS`` to a comma-separated list of entry-point names to load only
those (an empty value loads none but the built-ins).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .config import Option
from .exceptions import ConfigurationError

ENTRY_POINT_GROUP = "eventstore"
DEFAULT_PLUGINS = ("eventstore_core.memory", "eventstore_core.jsoncodec_plugin")

pm = pluggy.PluginManager("eventstore")
pm.add_hookspecs(hookspecs)

_load_lock = threading.Lock()
_loaded = False


@dataclass(frozen=True)
class Registration:
    """One named backend, cipher or codec and where it came from."""

    kind: str
    name: str
    factory: Callable[..., Any]
    distribution: str
    options: tuple[Option, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def load_plugins() -> None:
    """Register the built-ins and every installed ``eventstore`` entry point, once."""
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if _loaded:
            return
        for module_name in DEFAULT_PLUGINS:
            module = importlib.import_module(module_name)
            if not pm.is_registered(module):
                pm.register(module, name=module_name)
        allowed = os.environ.get("EVENTSTORE_LOAD_PLUGINS")
        if allowed is None:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        else:
            for name in filter(None, (part.strip() for part in allowed.split(","))):
                pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name)
        pm.check_pending()
        _loaded = True


def _collect(kind: str, hook: Any) -> dict[str, Registration]:
    load_plugins()
    found: dict[str, Registration] = {}

    def register(name: str, *factory: Any, distribution: str = "", **extra: Any) -> None:
        if name in found:
            raise ConfigurationError(
                f"two plugins register a {kind} named {name!r}: "
                f"{found[name].distribution or '?'} and {distribution or '?'}"
            )
        options = tuple(extra.pop("options", ()))
        if kind == "codec":
            encoder_class, decoder_class = factory
            found[name] = Registration(kind, name, encoder_class, distribution, options,
                                       {"decoder_class": decoder_class, **extra})
        else:
            (only,) = factory
            found[name] = Registration(kind, name, only, distribution, options, extra)

    hook(register=register)
    return found


def backends() -> dict[str, Registration]:
    """Installed backends by name."""
    return _collect("backend", pm.hook.register_backends)


def ciphers() -> dict[str, Registration]:
    """Installed ciphers by name."""
    return _collect("cipher", pm.hook.register_ciphers)


def codecs() -> dict[str, Registration]:
    """Installed codecs by name."""
    return _collect("codec", pm.hook.register_codecs)


def lookup(kind: str, name: str, registry: dict[str, Registration], hint: str) -> Registration:
    """The registration called ``name``, or an error that lists what is installed."""
    try:
        return registry[name]
    except KeyError:
        installed = ", ".join(sorted(registry)) or "none"
        raise ConfigurationError(
            f"no {kind} named {name!r} is installed (installed {kind}s: {installed}). "
            f"{hint}"
        ) from None


def get_plugins() -> list[dict[str, Any]]:
    """Each loaded plugin with its name, distribution version and the hooks it implements."""
    load_plugins()
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    result = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or repr(plugin)
        dist = dists.get(id(plugin))
        if dist is not None:
            distribution, version = dist.project_name, dist.version
        else:
            distribution, version = "eventstore-core", _core_version()
        result.append({
            "name": name,
            "distribution": distribution,
            "version": version,
            "hooks": sorted(h.name for h in pm.get_hookcallers(plugin) or ()),
        })
    return sorted(result, key=lambda p: (p["distribution"], p["name"]))


def _core_version() -> str:
    try:
        return metadata.version("eventstore-core")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def known_distributions() -> Sequence[tuple[str, str]]:
    """Plugins this project publishes, for 'pip install' hints: (name, distribution)."""
    return (
        ("sqlalchemy", "eventstore-sqlalchemy"),
        ("cassandra", "eventstore-cassandra"),
        ("aes", "eventstore-aes"),
    )
