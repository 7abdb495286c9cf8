"""Every hook a plugin can implement. Each spec's docstring is its documentation.

A plugin is a module (registered under the ``eventstore`` entry-point group) with functions
decorated by ``@eventstore_core.hookimpl`` whose names match the specs below.
"""

from __future__ import annotations

from collections.abc import Callable

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("eventstore")
hookimpl = HookimplMarker("eventstore")


@hookspec
def register_backends(register: Callable[..., None]) -> None:
    """Register active record strategies (backends) by name.

    Call ``register(name, factory, options=(...), distribution="eventstore-x")`` once per
    backend. ``factory(**options)`` returns an ``AbstractActiveRecordStrategy``; ``options`` is
    a sequence of ``eventstore_core.config.Option`` describing each keyword the factory takes,
    so that ``EventStore.from_config`` can read it from arguments or ``EVENTSTORE_<NAME>``
    environment variables and name it in errors.
    """


@hookspec
def register_ciphers(register: Callable[..., None]) -> None:
    """Register ciphers by name.

    Call ``register(name, factory, distribution="eventstore-x")``; ``factory(key: bytes)``
    returns an object with ``encrypt(str) -> str`` and ``decrypt(str) -> str`` that raises
    ``DataIntegrityError`` for altered ciphertext or a wrong key.
    """


@hookspec
def register_codecs(register: Callable[..., None]) -> None:
    """Register codecs by name.

    Call ``register(name, encoder_class, decoder_class, distribution="eventstore-x")``. An
    encoder instance has ``encode(dict) -> str``; a decoder instance has
    ``decode(str) -> dict``. They are what ``SequencedItemMapper`` takes as
    ``json_encoder_class`` and ``json_decoder_class``.
    """
