"""Every hook a plugin can implement. Each spec's docstring is its documentation.

A plugin is a module (registered under the ``eventstore`` entry-point group) with functions
decorated by ``@eventstore_core.hookimpl`` whose names match the specs below. Each hook gets one
argument, ``register``: a callback with its own typed signature (the ``*Registrar`` protocols
here). The plugin manager knows which distribution each plugin module came from; a plugin does
not say it. Keep plugin modules light: declare names and options, and import the
implementation and its drivers inside the factory, so that loading every installed plugin
costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    from .config import Option
    from .urls import StoreURL

hookspec = HookspecMarker("eventstore")
hookimpl = HookimplMarker("eventstore")


class BackendRegistrar(Protocol):
    """The ``register`` callback that ``register_backends`` gets."""

    def __call__(
        self,
        name: str,
        factory: Callable[..., Any],
        *,
        options: Sequence[Option] = (),
        url_schemes: Sequence[str] = (),
        options_from_url: Callable[[StoreURL], Mapping[str, Any]] | None = None,
        async_factory: Callable[..., Any] | None = None,
    ) -> None: ...


class CipherRegistrar(Protocol):
    """The ``register`` callback that ``register_ciphers`` gets."""

    def __call__(self, name: str, factory: Callable[[bytes], Any]) -> None: ...


class CodecRegistrar(Protocol):
    """The ``register`` callback that ``register_codecs`` gets."""

    def __call__(self, name: str, encoder_class: type, decoder_class: type) -> None: ...


@hookspec
def register_backends(register: BackendRegistrar) -> None:
    """Register active record strategies (backends) by name.

    Call ``register(name, factory, options=..., url_schemes=..., options_from_url=...,
    async_factory=...)`` once per backend:

    - ``name``: what a user passes to ``EventStore.from_config(name)``; unique among the
      installed plugins.
    - ``factory``: ``factory(**options)`` returns a ready ``AbstractActiveRecordStrategy``.
      Import the backend's modules and drivers inside it, not at the top of the plugin module.
    - ``options``: a sequence of ``eventstore_core.config.Option``, one per keyword the
      factory takes (the kit checks that they match), so that ``from_config`` reads each from
      a keyword, a URL query parameter or ``EVENTSTORE_<NAME>`` and names it in errors.
    - ``url_schemes``: the URL schemes this backend serves (``"postgresql"`` serves
      ``postgresql://`` and ``postgresql+psycopg://``); unique among the installed plugins.
    - ``options_from_url``: ``options_from_url(url)`` turns a parsed ``StoreURL`` (scheme,
      driver, username, password, hosts, path) into factory options; its query parameters
      are options already and are checked by the core. Required with ``url_schemes``.
    - ``async_factory``: ``async_factory(**options)`` (the same options as ``factory``)
      returns an ``eventstore_core.aio.AbstractAsyncActiveRecordStrategy``, for
      ``AsyncEventStore.from_config``. It does no I/O itself (connections open on first use).
      Optional: without it ``AsyncEventStore`` refuses the backend, naming it.
    """


@hookspec
def register_ciphers(register: CipherRegistrar) -> None:
    """Register ciphers by name.

    Call ``register(name, factory)``:

    - ``name``: what a user passes as ``cipher=``; unique among the installed plugins.
    - ``factory``: ``factory(key)`` takes the key as bytes (16, 24 or 32 of them) and
      returns an object with ``encrypt(plaintext: str, associated_data: bytes | None = None)
      -> str`` and ``decrypt(ciphertext: str, associated_data: bytes | None = None) -> str``.
      ``decrypt`` raises ``DataIntegrityError`` for altered ciphertext, a wrong key, or
      associated data other than the ciphertext was made with. ``SequencedItemMapper``
      passes each item's sequence id, position and topic as ``associated_data``
      (``eventstore_core.cipher.associated_data``), binding every ciphertext to its row. A
      cipher whose methods take no ``associated_data`` still works, but its ciphertexts are
      not bound to their rows (``mapper.binds_rows`` is then false).
    """


@hookspec
def register_codecs(register: CodecRegistrar) -> None:
    """Register codecs by name.

    Call ``register(name, encoder_class, decoder_class)``:

    - ``name``: what a user passes as ``codec=``; unique among the installed plugins.
    - ``encoder_class``: instances have ``encode(dict) -> str``.
    - ``decoder_class``: instances have ``decode(str) -> dict``.

    They are what ``SequencedItemMapper`` takes as ``json_encoder_class`` and
    ``json_decoder_class``.
    """
