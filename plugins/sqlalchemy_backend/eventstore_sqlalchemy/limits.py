"""What the columns can hold, checked before writing, so every database refuses the same.

SQLite would store a 300-character topic or a 2**70 position that PostgreSQL and MariaDB
refuse (a NUL character, which PostgreSQL text cannot hold, is refused by the core on every
backend). Refusing these up front, with the sequence and position named, keeps the backends
interchangeable and the stored data portable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventstore_core.exceptions import InvalidEventError
from sqlalchemy import Column, Integer

from .errors import describe_positions
from .timestamps import MAX_SECONDS, MIN_SECONDS, MicrosecondTimestamp

INT64 = (-(2**63), 2**63 - 1)


class ColumnLimits:
    """Checks items against the position, topic and data columns of a table."""

    def __init__(self, columns: Sequence[Column[Any]]) -> None:
        position, topic, data = columns[1], columns[2], columns[3]
        self.names = (position.name, topic.name, data.name)
        self.int_positions = isinstance(position.type, Integer)
        self.timestamp_positions = isinstance(position.type, MicrosecondTimestamp)
        self.topic_length: int | None = getattr(topic.type, "length", None)
        self.data_type: type | None
        try:
            self.data_type = data.type.python_type
        except NotImplementedError:
            self.data_type = None

    def check(self, items: Sequence[Any]) -> None:
        """``InvalidEventError`` naming the first item that a column cannot hold."""
        low, high = INT64
        if self.timestamp_positions:
            low, high = MIN_SECONDS, MAX_SECONDS  # type: ignore[assignment]
        ranged = self.int_positions or self.timestamp_positions
        topic_length, data_type = self.topic_length, self.data_type
        for item in items:
            position, topic, data = item[1], item[2], item[3]
            if (
                (ranged and not low <= position <= high)
                or (topic_length is not None and len(topic) > topic_length)
                or (data_type is not None and not isinstance(data, data_type))
            ):
                raise InvalidEventError(f"{describe_positions([item])}: {self.explain(item)}")

    def explain(self, item: Any) -> str:
        position_name, topic_name, data_name = self.names
        position, topic, data = item[1], item[2], item[3]
        if self.int_positions and not INT64[0] <= position <= INT64[1]:
            return f"the position does not fit in the 64-bit column {position_name}"
        if self.timestamp_positions and not MIN_SECONDS <= position <= MAX_SECONDS:
            return (
                f"the timestamp does not fit in column {position_name} (64-bit microseconds: "
                f"{MIN_SECONDS} to {MAX_SECONDS} seconds)"
            )
        if self.topic_length is not None and len(topic) > self.topic_length:
            return (
                f"the topic is {len(topic)} characters long, column {topic_name} holds at "
                f"most {self.topic_length}"
            )
        holds = self.data_type.__name__ if self.data_type is not None else "?"
        return f"the data is {type(data).__name__}, column {data_name} holds {holds}"
