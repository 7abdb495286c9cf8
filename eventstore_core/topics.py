"""Topics name classes as ``module#QualifiedName``; renamed classes keep their old topics."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from .exceptions import TopicResolutionError

_aliases: dict[str, type] = {}


def get_topic(cls: type) -> str:
    """The topic of a class: ``module#QualifiedName``."""
    return f"{cls.__module__}#{cls.__qualname__}"


def register_topic(topic: str, cls: type) -> None:
    """Let ``topic`` (for example the old name of a renamed class) resolve to ``cls``."""
    if not isinstance(cls, type):
        raise TypeError(f"register_topic needs a class, got {cls!r}")
    _aliases[topic] = cls
    resolve_topic.cache_clear()


@cache
def resolve_topic(topic: str) -> Any:
    """The class a topic names; ``TopicResolutionError`` if it names nothing importable."""
    if topic in _aliases:
        return _aliases[topic]
    module_name, sep, qualname = topic.partition("#")
    if not sep or not module_name or not qualname:
        raise TopicResolutionError(
            f"topic {topic!r} is not of the form 'module#QualifiedName'"
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise TopicResolutionError(
            f"topic {topic!r}: module {module_name!r} cannot be imported ({error}); if the "
            f"class moved, register its old topic with register_topic()"
        ) from error
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TopicResolutionError(
                f"topic {topic!r}: module {module_name!r} has no {qualname!r}; if the class "
                f"was renamed, register its old topic with register_topic()"
            ) from None
    return obj
