"""Strategies held to one connection source each, for the conformance suite.

The suite runs once with ``OwnTransactionStrategy`` (every call on the strategy's own
transaction) and once with ``CallersSessionStrategy`` (every call inside a transaction the
caller began in its session), so that both connection sources pass every case on every
database; each refuses a call that would take the other source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from eventstore_core.activerecordstrategy import DEFAULT_PAGE_SIZE, OrderedItem

from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy
from eventstore_sqlalchemy.connections import OwnTransaction, SessionTransaction
from eventstore_sqlalchemy.databases.sqlite import WRITE_OPTIONS

R = TypeVar("R")


class OwnTransactionStrategy(SQLAlchemyActiveRecordStrategy[Any]):
    """The plain strategy, whose every call must run on its own transaction."""

    def _source(self) -> Any:
        source = super()._source()
        assert isinstance(source, OwnTransaction), f"expected the own transaction: {source}"
        return source


class CallersSessionStrategy(SQLAlchemyActiveRecordStrategy[Any]):
    """``with session.begin(): <the call>`` around each public call, as an application
    that opens its own transaction would do; the caller (this wrapper) commits."""

    def _source(self) -> Any:
        source = super()._source()
        assert isinstance(source, SessionTransaction), f"expected the session's: {source}"
        assert self.current_session().in_transaction(), "outside the caller's transaction"
        return source

    def _in_callers_transaction(self, call: Callable[[], R]) -> R:
        with self.current_session().begin():
            return call()

    def append(self, sequenced_item_or_items: Any, *args: Any, **kwargs: Any) -> None:
        session = self.current_session()
        with session.begin():
            # A caller that writes to SQLite begins IMMEDIATE (takes the write lock first):
            # a deferred transaction cannot wait for another writer once it has read.
            session.connection({"clause": self.table}, execution_options=WRITE_OPTIONS)
            super().append(sequenced_item_or_items, *args, **kwargs)

    def get_items(self, *args: Any, **kwargs: Any) -> list[Any]:
        return self._in_callers_transaction(
            lambda: super(CallersSessionStrategy, self).get_items(*args, **kwargs)
        )

    def all_items(self, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[Any]:
        pages = self._in_callers_transaction(
            lambda: list(super(CallersSessionStrategy, self).all_items(page_size))
        )
        return iter(pages)

    def read_all(
        self, after: int = 0, limit: int = DEFAULT_PAGE_SIZE, category: str | None = None
    ) -> list[OrderedItem]:
        return self._in_callers_transaction(
            lambda: super(CallersSessionStrategy, self).read_all(after, limit, category)
        )

    def wait_for_items(self, after: int, timeout: float) -> None:
        self._in_callers_transaction(
            lambda: super(CallersSessionStrategy, self).wait_for_items(after, timeout)
        )

    def describe(self) -> dict[str, Any]:
        return self._in_callers_transaction(
            lambda: super(CallersSessionStrategy, self).describe()
        )
