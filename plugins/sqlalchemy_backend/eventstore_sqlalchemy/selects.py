"""The strategy's select statements, built once and reused (SQLAlchemy Core).

The table's primary key (sequence, position) serves each of them as one index range scan;
``read_all`` is a range scan of the unique index on the global position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Select, bindparam, select

BOUNDS = ("gt", "gte", "lt", "lte")


class Selects:
    """Selects of items by sequence and position, for one table."""

    def __init__(
        self, columns: Sequence[Column[Any]], global_position: Column[Any] | None = None
    ) -> None:
        self.columns = list(columns)
        sequence_id, position = self.columns[0], self.columns[1]
        self._by_sequence: dict[tuple[frozenset[str], bool], Select[Any]] = {}
        #: Pages over everything, keyset-paginated by (sequence, position).
        self.first_page = (
            select(*self.columns).order_by(sequence_id, position).limit(bindparam("limit"))
        )
        self.rest_of_sequence = (
            select(*self.columns[1:])
            .where(sequence_id == bindparam("sequence_id"), position > bindparam("position"))
            .order_by(position)
            .limit(bindparam("limit"))
        )
        self.next_sequences = (
            select(*self.columns)
            .where(sequence_id > bindparam("sequence_id"))
            .order_by(sequence_id, position)
            .limit(bindparam("limit"))
        )
        #: The global order: global position and item, from one range of its unique index.
        self.read_all: Select[Any] | None = None
        if global_position is not None:
            self.read_all = (
                select(global_position, *self.columns)
                .where(global_position > bindparam("after"))
                .order_by(global_position)
                .limit(bindparam("limit"))
            )

    def by_sequence(self, params: frozenset[str], is_ascending: bool) -> Select[Any]:
        """Columns after the sequence id, of one sequence, within the bounds in ``params``.

        ``params`` names the bind parameters given: ``sequence_id`` and any of ``gt``,
        ``gte``, ``lt``, ``lte``, ``limit``.
        """
        key = (params, is_ascending)
        statement = self._by_sequence.get(key)
        if statement is None:
            statement = self._build(params, is_ascending)
            self._by_sequence[key] = statement
        return statement

    def _build(self, params: frozenset[str], is_ascending: bool) -> Select[Any]:
        sequence_id, position = self.columns[0], self.columns[1]
        statement = select(*self.columns[1:]).where(sequence_id == bindparam("sequence_id"))
        comparisons = {
            "gt": position.__gt__,
            "gte": position.__ge__,
            "lt": position.__lt__,
            "lte": position.__le__,
        }
        for name in BOUNDS:
            if name in params:
                statement = statement.where(comparisons[name](bindparam(name)))
        statement = statement.order_by(position.asc() if is_ascending else position.desc())
        if "limit" in params:
            statement = statement.limit(bindparam("limit"))
        return statement
