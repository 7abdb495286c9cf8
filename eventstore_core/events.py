"""Domain events: immutable bags of attributes, subclassed by applications."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


class DomainEvent:
    """An immutable event with the attributes it was constructed with.

    Events are equal when they are of the same class and have equal attributes.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    if TYPE_CHECKING:  # attributes are whatever the event was made with

        def __getattr__(self, name: str) -> Any: ...

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {key!r}")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {key!r}")

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.__dict__))))

    def __repr__(self) -> str:
        """The class and attributes; for a class stored encrypted (``__always_encrypt__``)
        the attribute names only, so that no log line shows what the database hides."""
        if getattr(type(self), "__always_encrypt__", False):
            attrs = ", ".join(f"{key}=..." for key in sorted(self.__dict__))
        else:
            attrs = ", ".join(f"{key}={value!r}" for key, value in sorted(self.__dict__.items()))
        return f"{type(self).__qualname__}({attrs})"

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> DomainEvent:
        """Rebuild an event from its stored attributes, without calling ``__init__``."""
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event


class TimestampedEvent(DomainEvent):
    """An event that carries its own timestamp (a ``Decimal``, exact to the microsecond).

    Use it for sequences positioned by time: map it with
    ``SequencedItemMapper(position_attr_name="timestamp")`` onto a timestamp-sequenced record.
    The timestamp is taken when the event is made unless one is given.
    """

    def __init__(self, **kwargs: Any) -> None:
        if "timestamp" not in kwargs:
            from .timestamps import decimal_timestamp

            kwargs["timestamp"] = decimal_timestamp()
        super().__init__(**kwargs)

    @property
    def moment(self) -> Any:
        """The timestamp as an aware UTC ``datetime``."""
        from .timestamps import datetime_from_timestamp

        return datetime_from_timestamp(self.__dict__["timestamp"])
