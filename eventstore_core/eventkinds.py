"""Event kinds: how the mapper reads the attributes of an event and builds one from them.

Each kind of event class has one adapter (an ``EventKind``): ``DomainEvent`` subclasses,
pydantic v2 models, msgspec Structs, dataclasses (frozen or not, with or without slots), and
last any other object with a ``__dict__``. The mapper, the store's refusal of non-events and
snapshots all ask ``kind_of(cls)`` (kept per class), so there is one mechanism and no branch
per library. An application adds a kind of its own with ``register_event_kind``.

Rebuilding never validates or converts: the stored values are the exact values the event was
made with (the codec keeps their types), so the event is rebuilt as it was, without running
``__init__`` or validators again (a validator that changes a value would change it twice).
The pydantic and msgspec adapters use their library only once a class of it is seen: a
class of pydantic exists only if pydantic was imported, so ``import eventstore_core`` imports
neither.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from importlib import import_module
from operator import attrgetter
from typing import Any

from .events import DomainEvent
from .exceptions import DataIntegrityError

#: Reads an event's attributes into a new dict the caller may change.
Reader = Callable[[Any], dict[str, Any]]
#: Builds an event from its attributes (a dict it may keep).
Builder = Callable[[dict[str, Any]], Any]

_new = object.__new__
_setattr = object.__setattr__


class EventKind:
    """How the events of one kind of class are read and built.

    ``reader(cls)`` and ``builder(cls)`` are asked once per class; returning None means the
    mapper's inline path: a copy of the event's ``__dict__`` when reading, and an object
    made with ``object.__new__`` whose ``__dict__`` is the state when building.
    """

    #: The kind's name, in messages.
    name = "object"

    def claims(self, cls: type) -> bool:
        """Whether events of ``cls`` are of this kind."""
        return getattr(cls, "__dictoffset__", 0) != 0  # its objects have a __dict__

    def reader(self, cls: type) -> Reader | None:
        return None

    def builder(self, cls: type) -> Builder | None:
        return None


class DomainEventKind(EventKind):
    """``DomainEvent`` subclasses: the state is the ``__dict__``; ``_from_state`` if a class
    has its own."""

    name = "DomainEvent"

    def claims(self, cls: type) -> bool:
        return issubclass(cls, DomainEvent)

    def builder(self, cls: type) -> Builder | None:
        own = cls._from_state.__func__ is not _DEFAULT_FROM_STATE  # type: ignore[attr-defined]
        return cls._from_state if own else None  # type: ignore[attr-defined,no-any-return]


_DEFAULT_FROM_STATE = DomainEvent._from_state.__func__  # type: ignore[attr-defined]


class DataclassKind(EventKind):
    """Dataclasses: by their ``__dict__``, or by their fields if they have slots; rebuilt
    without ``__init__`` or ``__post_init__`` (frozen ones too)."""

    name = "dataclass"

    def claims(self, cls: type) -> bool:
        return dataclasses.is_dataclass(cls)

    def reader(self, cls: type) -> Reader | None:
        if not _has_slots(cls):
            return None
        names = tuple(field.name for field in dataclasses.fields(cls))
        if len(names) == 1:
            (name,) = names
            return lambda event: {name: getattr(event, name)}
        values = attrgetter(*names)
        return lambda event: dict(zip(names, values(event), strict=True))

    def builder(self, cls: type) -> Builder | None:
        if not _has_slots(cls):
            return None

        def build(state: dict[str, Any]) -> Any:
            event: Any = _new(cls)
            try:
                for name, value in state.items():
                    _setattr(event, name, value)
            except AttributeError:
                raise DataIntegrityError(
                    f"the stored state of a {cls.__qualname__} has attributes its class has "
                    f"no slot for: {', '.join(sorted(set(state).difference(_slots(cls))))}"
                ) from None
            return event

        return build


def _has_slots(cls: type) -> bool:
    return any("__slots__" in vars(base) for base in cls.__mro__[:-1])


def _slots(cls: type) -> set[str]:
    return {name for base in cls.__mro__ for name in vars(base).get("__slots__", ())}


class PydanticKind(EventKind):
    """pydantic v2 models (frozen or not): the state is the ``__dict__`` (the fields), with
    the extra attributes of a model with ``extra="allow"``.

    Rebuilt without validation: for a model without private attributes, extras or
    ``model_post_init`` whose stored state has exactly its fields, by setting what
    ``model_construct`` sets (the fields in the class's order, which ``model_dump`` keeps,
    every one counted as set), about 2.5 times faster than ``model_construct`` and faster
    than validating; else (a field missing gets its default) by ``model_construct`` itself.
    """

    name = "pydantic model"

    def claims(self, cls: type) -> bool:
        pydantic = sys.modules.get("pydantic")  # no model exists before pydantic is imported
        return pydantic is not None and issubclass(cls, pydantic.BaseModel)

    def reader(self, cls: type) -> Reader | None:
        if cls.model_config.get("extra") != "allow":  # type: ignore[attr-defined]
            return None
        return lambda event: {**event.__dict__, **(event.__pydantic_extra__ or {})}

    def builder(self, cls: type) -> Builder | None:
        model: Any = cls
        if model.__private_attributes__ or model.__pydantic_post_init__ or \
                model.model_config.get("extra") == "allow":
            return lambda state: model.model_construct(**state)
        base = vars(sys.modules["pydantic"].BaseModel)
        set_fields_set = base["__pydantic_fields_set__"].__set__
        set_extra = base["__pydantic_extra__"].__set__
        set_private = base["__pydantic_private__"].__set__

        names = tuple(model.__pydantic_fields__)
        all_set = set(names)  # copied for each event (a copy is cheaper than a new set)

        def build(state: dict[str, Any]) -> Any:
            if len(state) != len(names):  # a field missing (its default) or one unknown
                return model.model_construct(**state)
            try:
                fields = {name: state[name] for name in names}  # in the order of the class
            except KeyError:
                return model.model_construct(**state)
            event: Any = _new(cls)
            _setattr(event, "__dict__", fields)
            set_fields_set(event, all_set.copy())
            set_extra(event, None)
            set_private(event, None)
            return event

        return build


class MsgspecKind(EventKind):
    """msgspec Structs (frozen, ``array_like``, ``omit_defaults``, ``rename``, ``kw_only``:
    those options shape msgspec's own encoding, not ours): the state is the fields.

    Rebuilt by calling the class with the fields: a Struct's ``__init__`` neither validates
    nor converts (it sets the fields and fills defaults), and it is the only way to make a
    Struct. A ``__post_init__`` runs again, as when msgspec decodes one (msgspec.convert
    would validate, and convert an int stored in a float field).
    """

    name = "msgspec Struct"

    def claims(self, cls: type) -> bool:
        msgspec = sys.modules.get("msgspec")
        return msgspec is not None and issubclass(cls, msgspec.Struct)

    def reader(self, cls: type) -> Reader | None:
        asdict: Reader = import_module("msgspec.structs").asdict
        return asdict

    def builder(self, cls: type) -> Builder | None:
        def build(state: dict[str, Any]) -> Any:
            try:
                return cls(**state)
            except TypeError as error:  # msgspec names the argument, never a value
                raise DataIntegrityError(
                    f"the stored state of a {cls.__qualname__} does not fit its class: {error}"
                ) from None

        return build


#: The kinds, asked in order; the first that claims a class is its kind.
_kinds: list[EventKind] = [
    DomainEventKind(), PydanticKind(), MsgspecKind(), DataclassKind(), EventKind(),
]
_kind_of: dict[type, EventKind | None] = {}


def register_event_kind(kind: EventKind) -> None:
    """Add a kind of event class, asked before the built-in ones."""
    if not isinstance(kind, EventKind):
        raise TypeError(f"register_event_kind needs an EventKind, got a {type(kind).__name__}")
    _kinds.insert(0, kind)
    _kind_of.clear()


def kind_of(cls: type) -> EventKind | None:
    """The kind of ``cls``, or None if it is no kind of event class (None, a dict, a str)."""
    try:
        return _kind_of[cls]
    except KeyError:
        pass
    found = next((kind for kind in _kinds if kind.claims(cls)), None)
    _kind_of[cls] = found
    return found


def is_event_object(obj: Any) -> bool:
    """Whether ``obj`` is of a kind of event class (its class need not be registered)."""
    return kind_of(type(obj)) is not None


def reader_of(cls: type) -> Reader:
    """The function that reads the attributes of an object of ``cls`` (``TypeError`` for a
    class of no kind)."""
    return kind_of_or_error(cls).reader(cls) or _read_dict


def builder_of(cls: type) -> Builder:
    """The function that builds an object of ``cls`` from its attributes."""
    return kind_of_or_error(cls).builder(cls) or (lambda state: _from_dict(cls, state))


def kind_of_or_error(cls: type) -> EventKind:
    kind = kind_of(cls)
    if kind is None:
        raise TypeError(
            f"a {cls.__qualname__} is no event object: events are DomainEvents, dataclasses, "
            f"pydantic models, msgspec Structs or other objects with a __dict__"
        )
    return kind


def _read_dict(obj: Any) -> dict[str, Any]:
    return dict(obj.__dict__)


def _from_dict(cls: type, state: dict[str, Any]) -> Any:
    obj: Any = _new(cls)
    _setattr(obj, "__dict__", state)
    return obj
