"""A strategy whose every call runs inside a transaction the caller began in its session.

The conformance suite runs once with strategies that choose their own transactions and once
with this one, so that both connection sources (the strategy's own transaction; the caller's
session transaction) pass every case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from eventstore_core.activerecordstrategy import DEFAULT_PAGE_SIZE, OrderedItem

from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy
from eventstore_sqlalchemy.sqlite import WRITE_OPTIONS

R = TypeVar("R")


class CallersSessionStrategy(SQLAlchemyActiveRecordStrategy[Any]):
    """``with session.begin(): <the call>`` around each public call, as an application
    that opens its own transaction would do; the caller (this wrapper) commits."""

    def _in_callers_transaction(self, call: Callable[[], R]) -> R:
        with self.current_session().begin():
            return call()

    def append(self, sequenced_item_or_items: Any) -> None:
        session = self.current_session()
        with session.begin():
            # A caller that writes to SQLite begins IMMEDIATE (takes the write lock first):
            # a deferred transaction cannot wait for another writer once it has read.
            session.connection({"clause": self.table}, execution_options=WRITE_OPTIONS)
            super().append(sequenced_item_or_items)

    def get_items(self, *args: Any, **kwargs: Any) -> list[Any]:
        return self._in_callers_transaction(
            lambda: super(CallersSessionStrategy, self).get_items(*args, **kwargs)
        )

    def all_items(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[Any]:
        pages = self._in_callers_transaction(
            lambda: list(super(CallersSessionStrategy, self).all_items(page_size))
        )
        return iter(pages)

    def read_all(self, after: int = 0, limit: int = DEFAULT_PAGE_SIZE) -> list[OrderedItem]:
        return self._in_callers_transaction(
            lambda: super(CallersSessionStrategy, self).read_all(after, limit)
        )
