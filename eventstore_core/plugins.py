"""The plugin manager: finds installed plugins once, and builds name -> factory registries.

Plugins are modules registered under the ``eventstore`` entry-point group (and the built-ins
in ``DEFAULT_PLUGINS``). They are loaded lazily, the first time a registry is asked for, each
on its own: one that fails to import is remembered as broken (``get_plugins()`` lists it with
its error, asking for what it would have registered is a ``ConfigurationError`` naming its
entry point and distribution) and the others keep working. Plugin modules only declare names
and options; what a factory needs is imported when it runs. Set ``EVENTSTORE_LOAD_PLUGINS`` to
a comma-separated list of entry-point names to load only those (an empty value loads none but
the built-ins).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from . import hookspecs
from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from .config import Option
    from .urls import StoreURL

ENTRY_POINT_GROUP = "eventstore"
CORE_DISTRIBUTION = "eventstore-core"
DEFAULT_PLUGINS = ("eventstore_core.memory", "eventstore_core.jsoncodec_plugin")

pm = pluggy.PluginManager("eventstore")
pm.add_hookspecs(hookspecs)

_load_lock = threading.Lock()
_loaded = False
#: id(plugin module) -> (distribution, version), for what was loaded from an entry point.
_origins: dict[int, tuple[str, str]] = {}


@dataclass(frozen=True)
class BrokenPlugin:
    """An entry point whose module failed to import, and why."""

    entry_point: str
    value: str
    distribution: str
    version: str
    error: str

    def describe(self) -> str:
        return (
            f"plugin entry point {self.entry_point!r} ({self.value}) of distribution "
            f"{self.distribution} {self.version} failed to load: {self.error}"
        )


_broken: list[BrokenPlugin] = []


@dataclass(frozen=True)
class BackendRegistration:
    name: str
    factory: Callable[..., Any]
    distribution: str
    options: tuple[Option, ...] = ()
    url_schemes: tuple[str, ...] = ()
    options_from_url: Callable[[StoreURL], Mapping[str, Any]] | None = None
    #: ``async_factory(**options)``: the backend's ``AbstractAsyncActiveRecordStrategy`` (for
    #: ``AsyncEventStore``), taking the same options as ``factory``; None if it has none.
    async_factory: Callable[..., Any] | None = None


@dataclass(frozen=True)
class CipherRegistration:
    name: str
    factory: Callable[[bytes], Any]
    distribution: str


@dataclass(frozen=True)
class CodecRegistration:
    name: str
    encoder_class: type
    decoder_class: type
    distribution: str


#: Any of the three (``lookup`` and the CLI read ``name`` and ``distribution`` of each).
Registration = BackendRegistration | CipherRegistration | CodecRegistration
R = TypeVar("R", BackendRegistration, CipherRegistration, CodecRegistration)


# The register callbacks still accept a ``distribution=`` keyword and ignore it, so that
# plugins written when each plugin typed in its distribution keep loading; the manager knows
# which distribution a plugin module came from.


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
        names = None if allowed is None else {
            part.strip() for part in allowed.split(",") if part.strip()
        }
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if names is None or entry_point.name in names:
                _load_entry_point(entry_point)
        pm.check_pending()
        _loaded = True


def _load_entry_point(entry_point: metadata.EntryPoint) -> None:
    if pm.get_plugin(entry_point.name) is not None or any(
        b.entry_point == entry_point.name for b in _broken
    ):
        return  # the same distribution seen twice on sys.path
    dist = entry_point.dist
    distribution = dist.metadata["Name"] if dist is not None else "?"
    version = dist.version if dist is not None else "?"
    try:
        plugin = entry_point.load()
        pm.register(plugin, name=entry_point.name)
    except Exception as error:
        _broken.append(BrokenPlugin(entry_point.name, entry_point.value, distribution,
                                    version, f"{type(error).__name__}: {error}"))
        return
    _origins[id(plugin)] = (distribution, version)


def distribution_of(plugin: object) -> str:
    """The distribution a plugin module came from (the core's for built-ins and for plugins
    registered by hand with ``pm.register``, unless they set ``DISTRIBUTION``)."""
    origin = _origins.get(id(plugin))
    if origin is not None:
        return origin[0]
    return str(getattr(plugin, "DISTRIBUTION", CORE_DISTRIBUTION))


def broken_plugins() -> list[BrokenPlugin]:
    load_plugins()
    return list(_broken)


def _collect(hook: Any, kind: str, registrar: Callable[[dict[str, R], str], Any]) -> dict[str, R]:
    """Call each implementation of ``hook`` with a ``register`` bound to its distribution."""
    load_plugins()
    found: dict[str, R] = {}
    for impl in hook.get_hookimpls():
        impl.function(register=registrar(found, distribution_of(impl.plugin)))
    return found


def _add(found: dict[str, R], kind: str, registration: R) -> None:
    name = registration.name
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            f"{registration.distribution} registers a {kind} whose name {name!r} is not a "
            f"non-empty str"
        )
    if name in found:
        raise ConfigurationError(
            f"two plugins register a {kind} named {name!r}: "
            f"{found[name].distribution} and {registration.distribution}"
        )
    found[name] = registration


def backends() -> dict[str, BackendRegistration]:
    """Installed backends by name."""

    def registrar(found: dict[str, BackendRegistration], origin: str) -> Any:
        def register(
            name: str,
            factory: Callable[..., Any],
            *,
            options: Sequence[Option] = (),
            url_schemes: Sequence[str] = (),
            options_from_url: Callable[[StoreURL], Mapping[str, Any]] | None = None,
            async_factory: Callable[..., Any] | None = None,
            distribution: object = None,  # ignored: see above load_plugins
        ) -> None:
            if async_factory is not None and not callable(async_factory):
                raise ConfigurationError(
                    f"backend {name!r} of {origin} registers an async_factory that is not "
                    f"callable: {type(async_factory).__name__}"
                )
            schemes = tuple(scheme.lower() for scheme in url_schemes)
            if schemes and options_from_url is None:
                raise ConfigurationError(
                    f"backend {name!r} of {origin} registers URL schemes "
                    f"{', '.join(schemes)} without options_from_url="
                )
            for other in found.values():
                for scheme in set(schemes) & set(other.url_schemes):
                    raise ConfigurationError(
                        f"two plugins serve the URL scheme {scheme}://: backend {other.name!r} "
                        f"of {other.distribution} and backend {name!r} of {origin}"
                    )
            _add(found, "backend", BackendRegistration(
                name, factory, origin, tuple(options), schemes, options_from_url, async_factory
            ))

        return register

    return _collect(pm.hook.register_backends, "backend", registrar)


def ciphers() -> dict[str, CipherRegistration]:
    """Installed ciphers by name."""

    def registrar(found: dict[str, CipherRegistration], origin: str) -> Any:
        def register(
            name: str, factory: Callable[[bytes], Any], *, distribution: object = None
        ) -> None:
            _add(found, "cipher", CipherRegistration(name, factory, origin))

        return register

    return _collect(pm.hook.register_ciphers, "cipher", registrar)


def codecs() -> dict[str, CodecRegistration]:
    """Installed codecs by name."""

    def registrar(found: dict[str, CodecRegistration], origin: str) -> Any:
        def register(
            name: str, encoder_class: type, decoder_class: type, *, distribution: object = None
        ) -> None:
            _add(found, "codec", CodecRegistration(name, encoder_class, decoder_class, origin))

        return register

    return _collect(pm.hook.register_codecs, "codec", registrar)


def lookup(kind: str, name: str, registry: Mapping[str, R], hint: str) -> R:
    """The registration called ``name``, or an error that lists what is installed and
    which plugins failed to load."""
    try:
        return registry[name]
    except KeyError:
        pass
    installed = ", ".join(sorted(registry)) or "none"
    broken = broken_plugins()
    named = [b for b in broken if b.entry_point == name]
    if named:
        raise ConfigurationError(
            f"no {kind} named {name!r} could be loaded: {named[0].describe()}. "
            f"Installed {kind}s that work: {installed}"
        )
    also = "".join(f" Also, {b.describe()}." for b in broken)
    raise ConfigurationError(
        f"no {kind} named {name!r} is installed (installed {kind}s: {installed}). {hint}{also}"
    )


def backend_for_scheme(url: StoreURL) -> BackendRegistration:
    """The backend that serves ``url``'s scheme, or an error listing the schemes served."""
    registry = backends()
    for registration in registry.values():
        if url.scheme in registration.url_schemes:
            return registration
    served = sorted(s + "://" for r in registry.values() for s in r.url_schemes)
    also = "".join(f" Also, {b.describe()}." for b in broken_plugins())
    raise ConfigurationError(
        f"no installed backend serves the URL scheme {url.scheme}:// of "
        f"{url.redacted!r} (schemes served: {', '.join(served) or 'none'}). "
        f"Install the backend's distribution, or name a backend: "
        f"from_config('sqlalchemy', uri=...).{also}"
    )


def get_plugins() -> list[dict[str, Any]]:
    """Each plugin with its name, distribution, version, the hooks it implements and
    ``error``: None, or why it failed to load (then it implements no hooks)."""
    load_plugins()
    result: list[dict[str, Any]] = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or repr(plugin)
        distribution, version = _origins.get(id(plugin)) or (
            distribution_of(plugin), _core_version()
        )
        result.append({
            "name": name,
            "distribution": distribution,
            "version": version,
            "hooks": sorted(h.name for h in pm.get_hookcallers(plugin) or ()),
            "error": None,
        })
    for broken in _broken:
        result.append({
            "name": broken.entry_point,
            "distribution": broken.distribution,
            "version": broken.version,
            "hooks": [],
            "error": broken.error,
        })
    return sorted(result, key=lambda p: (p["distribution"], p["name"]))


def _core_version() -> str:
    try:
        return metadata.version(CORE_DISTRIBUTION)
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def known_distributions() -> Sequence[tuple[str, str]]:
    """Plugins this project publishes, for 'pip install' hints: (name, distribution)."""
    return (
        ("sqlalchemy", "eventstore-sqlalchemy"),
        ("cassandra", "eventstore-cassandra"),
        ("aes", "eventstore-aes"),
    )
