"""Upcasting: events stored by an older version of their class are read as the current one.

An event class declares its version with ``__version__ = N`` (a class without it is version
1). Events of a class above version 1 are stored with their version (the state's reserved
key ``"__version__"``); stored items are never rewritten. When an item is read, its state is
brought up one version at a time by the upcasters registered for the class, ``v1 -> v2 ->
v3``, before the event is built. Upcasters are registered per class, so they also apply to
events stored under an old topic of a renamed class (``register_topic``), to encrypted
events (the version is inside the encrypted state) and to the events a ``Repository``
replays after a snapshot.

    @upcaster(Deposited, from_version=1)
    def add_currency(state):
        return {**state, "currency": "EUR"}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .exceptions import DataIntegrityError

#: The key of the stored state that holds the version of its class (absent: version 1).
VERSION_KEY = "__version__"

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

#: class -> {version: the upcaster from that version to the next}
_upcasters: dict[type, dict[int, Upcaster]] = {}


def class_version(cls: type) -> int:
    """The version an event class declares (``__version__``), 1 if none."""
    version = getattr(cls, "__version__", 1)
    if type(version) is not int or version < 1:
        raise TypeError(
            f"{cls.__qualname__}.__version__ must be an int of at least 1, got {version!r}"
        )
    return version


def register_upcaster(cls: type | str, from_version: int, upcaster: Upcaster) -> None:
    """``upcaster(state)`` turns the stored state of ``cls`` at ``from_version`` into the
    state at ``from_version + 1`` (the state without the sequence id and position).

    ``cls`` is the event class, or a topic naming it (``"bank.events#Deposited"``, or an
    alias given with ``register_topic``): the upcasters are the class's, whichever of its
    topics an item was stored under."""
    if isinstance(cls, str):
        from .topics import resolve_topic

        cls = resolve_topic(cls)  # TopicResolutionError if it names no class
    if not isinstance(cls, type):
        raise TypeError(f"register_upcaster needs a class, got a {type(cls).__name__}")
    if type(from_version) is not int or from_version < 1:
        raise TypeError(f"from_version must be an int of at least 1, got {from_version!r}")
    if not callable(upcaster):
        raise TypeError("the upcaster must be callable")
    _upcasters.setdefault(cls, {})[from_version] = upcaster


def upcaster(cls: type | str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Decorator form of ``register_upcaster``."""

    def register(function: Upcaster) -> Upcaster:
        register_upcaster(cls, from_version, function)
        return function

    return register


def upcast(cls: type, state: dict[str, Any], current: int) -> dict[str, Any]:
    """``state`` (as decoded, maybe with its ``"__version__"``) brought up to ``current``."""
    stored = state.pop(VERSION_KEY, 1)
    if stored == current:
        return state
    if type(stored) is not int or stored < 1 or stored > current:
        raise DataIntegrityError(
            f"the state of a {cls.__qualname__} is stored at version {stored!r}, and the "
            f"class is at version {current}: it was written by a newer release, or altered"
        )
    steps = _upcasters.get(cls, {})
    for version in range(stored, current):
        step = steps.get(version)
        if step is None:
            raise DataIntegrityError(
                f"a {cls.__qualname__} is stored at version {stored}, and no upcaster is "
                f"registered from version {version} to {version + 1} "
                f"(register_upcaster({cls.__qualname__}, from_version={version}, ...))"
            )
        state = step(state)
        if type(state) is not dict:
            raise TypeError(
                f"the upcaster of {cls.__qualname__} from version {version} returned a "
                f"{type(state).__name__}, not a dict"
            )
    return state
