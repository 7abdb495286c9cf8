"""Topics name classes as ``module#QualifiedName``; stored data never chooses what code runs.

A topic read from the database resolves only to an *event class*: a subclass of
``DomainEvent`` (the project's event types), or a class the application registered. Anything
else is a ``TopicResolutionError`` naming the topic, raised before any object is built.
Reading never imports a module: the topic's module must already be imported by the
application, or lie in a package it allowed with ``allow_module``.

The application's means, all at import time of its own code:

- ``register_class(cls)`` (also a decorator): ``cls`` may be read back although it is no
  ``DomainEvent`` (a plain event class, the class of a snapshot's state). With
  ``topic="app.events#Name"`` the class is stored under that topic instead of its own, which is
  how a class of ``__main__`` or one made inside a function can be stored at all.
- ``register_topic(old_topic, cls)``: a renamed or moved class keeps reading its old topic.
- ``allow_module("app")``: reading may import ``app`` and its submodules when a topic names
  them before the application imported them.

At write time ``writable_topic(cls)`` refuses a class whose topic would not resolve back to
it in another process (defined inside a function, in ``__main__``, or not an event class).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, overload

from .events import DomainEvent
from .exceptions import TopicResolutionError

C = TypeVar("C", bound=type)

#: Topics that resolve to a class without a lookup: old topics and explicit topics.
_aliases: dict[str, type] = {}
#: Classes stored under a topic the application chose (``register_class(cls, topic=...)``).
_own_topics: dict[type, str] = {}
#: Classes that may be read although they are no ``DomainEvent``.
_registered: set[type] = set()
#: Packages whose modules reading may import (``allow_module``).
_allowed_modules: set[str] = set()
#: The project's event types: their subclasses are event classes without registration.
_EVENT_BASES: tuple[type, ...] = (DomainEvent,)


def get_topic(cls: type) -> str:
    """The topic of a class: the one registered for it, else ``module#QualifiedName``."""
    return _own_topics.get(cls) or f"{cls.__module__}#{cls.__qualname__}"


@overload
def register_class(cls: C, *, topic: str | None = None) -> C: ...
@overload
def register_class(cls: None = None, *, topic: str | None = None) -> Callable[[C], C]: ...
def register_class(cls: Any = None, *, topic: str | None = None) -> Any:
    """Let stored events (or snapshots) of ``cls`` be read back; returns ``cls``.

    Needed for a class that is not a ``DomainEvent`` subclass. With ``topic``, ``cls`` is
    stored and read under that topic (a ``module#Name`` string of the application's
    choosing), which also lets a class of ``__main__`` or of a function's body be stored.
    Use it as ``register_class(Account)``, ``@register_class`` or
    ``@register_class(topic="bank#Account")``.
    """
    if cls is None:
        return lambda cls: register_class(cls, topic=topic)
    if not isinstance(cls, type):
        raise TypeError(f"register_class needs a class, got a {type(cls).__name__}")
    if topic is not None:
        _check_form(topic)
        _aliases[topic] = cls
        _own_topics[cls] = topic
    _registered.add(cls)
    resolve_topic.cache_clear()
    return cls


def register_topic(topic: str, cls: type) -> None:
    """Let ``topic`` (for example the old name of a renamed class) resolve to ``cls``.

    ``cls`` is registered too (``register_class``); new events of it keep its own topic.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_topic needs a class, got a {type(cls).__name__}")
    _aliases[topic] = cls
    _registered.add(cls)
    resolve_topic.cache_clear()


def allow_module(name: str) -> None:
    """Let reading import module ``name`` (and its submodules) when a topic names it.

    Without it a topic's module must already be imported when an event of it is read.
    Allowing a module lets no class of it be read that is not an event class.
    """
    if not isinstance(name, str) or not name or name.startswith("."):
        raise TypeError(f"allow_module needs an absolute module name, got {name!r}")
    _allowed_modules.add(name)
    resolve_topic.cache_clear()


def is_event_class(cls: type) -> bool:
    """Whether a topic may resolve to ``cls``: a ``DomainEvent`` or a registered class."""
    return cls in _registered or issubclass(cls, _EVENT_BASES)


@cache
def resolve_topic(topic: str) -> type:
    """The event class a topic names; ``TopicResolutionError`` for anything else.

    Looks the class up in modules already imported (or allowed with ``allow_module``),
    through the modules' and classes' own namespaces (no ``__getattr__`` runs), and accepts
    only an event class (see ``is_event_class``).
    """
    if type(topic) is not str:
        raise TopicResolutionError(f"a topic is a str, not a {type(topic).__name__}")
    cls = _aliases.get(topic)
    if cls is not None:
        return cls
    module_name, qualname = _check_form(topic)
    module = sys.modules.get(module_name)
    if module is None:
        module = _import_allowed(topic, module_name)
    obj: Any = module
    for part in qualname.split("."):
        namespace = vars(obj) if obj is module or isinstance(obj, type) else None
        if namespace is None or part not in namespace:
            raise TopicResolutionError(
                f"topic {topic!r}: module {module_name!r} has no class {qualname!r}; if the "
                f"class was renamed or moved, register its old topic with register_topic()"
            )
        obj = namespace[part]
    if not isinstance(obj, type):
        raise TopicResolutionError(
            f"topic {topic!r} names a {type(obj).__name__}, not an event class"
        )
    if not is_event_class(obj):
        raise TopicResolutionError(
            f"topic {topic!r} names a class that is not an event class: only subclasses of "
            f"DomainEvent and classes registered with register_class() are read back"
        )
    return obj


def writable_topic(cls: type) -> str:
    """The topic under which events of ``cls`` are stored, checked to resolve back to it.

    ``TopicResolutionError`` for a class that could not be read back: one defined inside a
    function, one of ``__main__`` (another process has another ``__main__``) unless the
    application registered it, or one that is no event class.
    """
    topic = get_topic(cls)
    if cls in _own_topics:
        return topic
    hint = (
        f"define it at the top level of a module, or give it a topic with "
        f"register_class({cls.__qualname__}, topic='package.module#Name')"
    )
    if "<locals>" in cls.__qualname__:
        raise TopicResolutionError(
            f"{cls.__qualname__} cannot be stored: it is defined inside a function, so its "
            f"topic {topic!r} names no class when read; {hint}"
        )
    if cls.__module__ == "__main__" and cls not in _registered:
        raise TopicResolutionError(
            f"{cls.__qualname__} cannot be stored: it is defined in __main__, so its topic "
            f"{topic!r} names another class (or none) in any other process; {hint}"
        )
    try:
        found = resolve_topic(topic)
    except TopicResolutionError as error:
        raise TopicResolutionError(
            f"{cls.__qualname__} cannot be stored: it could not be read back ({error})"
        ) from None
    if found is not cls:
        raise TopicResolutionError(
            f"{cls.__qualname__} cannot be stored: its topic {topic!r} names another class; "
            f"{hint}"
        )
    return topic


def _check_form(topic: str) -> tuple[str, str]:
    module_name, sep, qualname = topic.partition("#")
    if not sep or not module_name or not qualname:
        raise TopicResolutionError(
            f"topic {topic!r} is not of the form 'module#QualifiedName'"
        )
    return module_name, qualname


def _import_allowed(topic: str, module_name: str) -> Any:
    allowed = any(
        module_name == name or module_name.startswith(name + ".") for name in _allowed_modules
    )
    if not allowed:
        raise TopicResolutionError(
            f"topic {topic!r}: module {module_name!r} is not imported, and reading imports "
            f"only modules the application allowed; import it first, or call "
            f"allow_module({module_name.partition('.')[0]!r}) (if the class moved, register "
            f"its old topic with register_topic())"
        )
    try:
        return importlib.import_module(module_name)
    except Exception as error:  # an allowed module that fails to import: say which
        raise TopicResolutionError(
            f"topic {topic!r}: module {module_name!r} cannot be imported "
            f"({type(error).__name__}: {error})"
        ) from None
