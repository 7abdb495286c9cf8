"""``EventStore.from_config``: a working store assembled from whatever plugins are installed.

The backend is named (``from_config("sqlalchemy", uri=...)``) or given by a configuration
string whose scheme a backend registered (``from_config("postgresql://user@host/db?cipher=aes")``,
or the variable ``EVENTSTORE_URL``); query parameters are options, checked like keywords.

Store options (each also read from ``EVENTSTORE_<NAME>``): ``backend`` (default
``sqlalchemy``, whose default is a SQLite file), ``cipher`` and ``cipher_key`` (32/24/16 bytes
or their base64 text), ``codec`` (default ``json``), ``sequence_id_attr_name`` and
``position_attr_name`` (the event attributes that hold sequence id and position). Every other
option belongs to the backend, which declares what it accepts.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from . import plugins, urls
from .config import Option, describe_options, resolve_options
from .exceptions import ConfigurationError
from .sequenceditemmapper import SequencedItemMapper

if TYPE_CHECKING:
    from .eventstore import BaseEventStore

S = TypeVar("S", bound="BaseEventStore")

DEFAULT_BACKEND = "sqlalchemy"

STORE_OPTIONS = (
    Option("cipher", "name of an installed cipher (e.g. 'aes'); events are then encrypted",
           default=None),
    Option("cipher_key", "key for the cipher: raw bytes or their base64 text", default=None),
    Option("codec", "name of an installed codec", default="json"),
    Option("sequence_id_attr_name", "event attribute holding the sequence id",
           default="originator_id"),
    Option("position_attr_name", "event attribute holding the position",
           default="originator_version"),
)


def assemble(
    store_class: type[S],
    backend: str | None,
    options: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> S:
    """A store from a backend name or a configuration string (``backend``, else
    ``EVENTSTORE_URL``, else ``EVENTSTORE_BACKEND``), keyword options and the environment.

    ``store_class`` is ``EventStore`` or ``AsyncEventStore`` (whose ``asynchronous`` asks for
    the backend's ``async_factory``); everything else is the same for both."""
    environ = os.environ if environ is None else environ
    if backend is None and environ.get("EVENTSTORE_URL"):
        if environ.get("EVENTSTORE_BACKEND"):
            raise ConfigurationError(
                "both EVENTSTORE_URL and EVENTSTORE_BACKEND are set: set only one (the URL "
                "names its backend by its scheme)"
            )
        backend = environ["EVENTSTORE_URL"]
    if backend is not None and urls.looks_like_url(backend):
        registration, options = _from_url(urls.StoreURL.parse(backend), options)
    else:
        name = backend or environ.get("EVENTSTORE_BACKEND") or DEFAULT_BACKEND
        registration = plugins.lookup("backend", name, plugins.backends(), _hint(name))
    store_names = {option.name for option in STORE_OPTIONS}
    store_given = {k: v for k, v in options.items() if k in store_names}
    backend_given = {k: v for k, v in options.items() if k not in store_names}
    store = resolve_options("EventStore.from_config()", STORE_OPTIONS, store_given, environ)
    backend_options = resolve_options(
        f"backend {registration.name!r} ({registration.distribution})",
        registration.options,
        backend_given,
        environ,
    )
    factory = _factory(registration, store_class.asynchronous)
    codec = plugins.lookup("codec", store["codec"], plugins.codecs(), _hint(store["codec"]))
    cipher = _make_cipher(store["cipher"], store["cipher_key"])
    strategy = factory(**backend_options)
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(
        sequenced_item_class=strategy.sequenced_item_class,
        sequence_id_attr_name=store["sequence_id_attr_name"],
        position_attr_name=store["position_attr_name"],
        json_encoder_class=codec.encoder_class,  # type: ignore[arg-type]
        json_decoder_class=codec.decoder_class,  # type: ignore[arg-type]
        cipher=cipher,
        always_encrypt=cipher is not None,
    )
    return store_class(sequenced_item_mapper=mapper, active_record_strategy=strategy)


def _factory(registration: plugins.BackendRegistration, asynchronous: bool) -> Any:
    """The backend's factory for a sync or an async store."""
    if not asynchronous:
        return registration.factory
    if registration.async_factory is None:
        raise ConfigurationError(
            f"backend {registration.name!r} ({registration.distribution}) has no async "
            f"strategy: it registers no async_factory, so AsyncEventStore cannot use it; "
            f"use EventStore, or a backend with one (installed: "
            f"{', '.join(sorted(n for n, r in plugins.backends().items() if r.async_factory))})"
        )
    return registration.async_factory


def _from_url(
    url: urls.StoreURL, keywords: Mapping[str, Any]
) -> tuple[plugins.BackendRegistration, dict[str, Any]]:
    """The backend serving ``url`` and every option: from the URL's parts, its query
    parameters (parsed and checked like keyword options) and ``keywords``."""
    registration = plugins.backend_for_scheme(url)
    shown = url.redacted
    assert registration.options_from_url is not None  # checked when it registered
    try:
        options = dict(registration.options_from_url(url))
    except ConfigurationError:
        raise
    except (TypeError, ValueError) as error:
        raise ConfigurationError(
            f"configuration string {shown!r} cannot be read by backend "
            f"{registration.name!r} ({registration.distribution}): {error}"
        ) from None
    known = {option.name: option for option in (*STORE_OPTIONS, *registration.options)}
    for name, text in url.query:
        option = known.get(name)
        if option is None:
            raise ConfigurationError(
                f"configuration string {shown!r}: unknown option {name!r}; backend "
                f"{registration.name!r} and the store accept: "
                + describe_options((*STORE_OPTIONS, *registration.options))
            )
        if name in options:
            raise ConfigurationError(
                f"configuration string {shown!r}: option {name!r} is given both by the "
                f"URL's parts and as a query parameter"
            )
        try:
            options[name] = option.parse(text)
        except (TypeError, ValueError) as error:
            value = urls.MASK if name in urls.SECRET_NAMES else repr(text)
            raise ConfigurationError(
                f"configuration string {shown!r}: {name}={value} is not a valid value "
                f"for option {name!r}: {error if value != urls.MASK else 'cannot be parsed'}"
            ) from None
    both = sorted(set(options) & {k for k, v in keywords.items() if v is not None})
    if both:
        raise ConfigurationError(
            f"option(s) {', '.join(both)} given both in the configuration string {shown!r} "
            f"and as keyword arguments: give each once"
        )
    return registration, {**options, **keywords}


def _make_cipher(name: str | None, key: Any) -> Any:
    if name is None:
        if key is not None:
            raise ConfigurationError(
                "cipher_key= (or EVENTSTORE_CIPHER_KEY) was given without cipher= "
                "(or EVENTSTORE_CIPHER); name the cipher, e.g. cipher='aes'"
            )
        return None
    registration = plugins.lookup("cipher", name, plugins.ciphers(), _hint(name))
    if key is None:
        raise ConfigurationError(
            f"cipher {name!r} needs a key: pass cipher_key= (bytes, or their base64 text) "
            f"or set EVENTSTORE_CIPHER_KEY. Options looked at: {describe_options(STORE_OPTIONS)}"
        )
    return registration.factory(key_bytes(key))


def key_bytes(key: str | bytes) -> bytes:
    """A cipher key given as bytes, or as base64 text (as in an environment variable)."""
    if isinstance(key, bytes | bytearray):
        return bytes(key)
    try:
        return base64.b64decode(key.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError) as error:
        raise ConfigurationError(
            "cipher_key (or EVENTSTORE_CIPHER_KEY) must be bytes or base64 text; "
            "the text given is not valid base64"
        ) from error


def _hint(name: str) -> str:
    for plugin_name, distribution in plugins.known_distributions():
        if plugin_name == name or name.startswith(plugin_name):
            return f"Install it with: pip install {distribution}"
    return (
        "Install a distribution that registers it under the 'eventstore' entry-point group "
        "(this project publishes eventstore-sqlalchemy, eventstore-cassandra, eventstore-aes)."
    )
