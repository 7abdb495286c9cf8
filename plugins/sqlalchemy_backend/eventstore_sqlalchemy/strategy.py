"""``SQLAlchemyActiveRecordStrategy``: sequenced items in a SQL table, through SQLAlchemy.

Two things vary and nothing else, each in its own place: where the connection and its
transaction come from (``connections``: the strategy's own transaction, or the caller's
session transaction) and which database it is (``databases``: one module per database). Each
operation is written once per database, as a function of a DB-API cursor, and runs on either
source:

* append: the items are checked, then written by the database's ``Appender``: an insert
  compiled once per dialect (``compiled``), ``executemany`` for a list; on PostgreSQL one
  statement for one item and ``COPY`` for a list. A taken position fails the whole list,
  atomically.
* read: a Core ``select`` compiled once per dialect, its rows made namedtuples directly. No
  ORM objects are made on either path.

Tables with a ``global_position`` column (the library's event tables) have a global order:
each write takes its items' global positions so that none can appear below a position a
reader has passed (each database's way: see ``databases.postgresql``, ``databases.mysql``,
``databases.sqlite``), and ``read_all`` pages through them with one indexed range query.
Tables whose position column is a ``MicrosecondTimestamp`` hold ``Decimal`` timestamp
positions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from eventstore_core.activerecordstrategy import (
    AbstractActiveRecordStrategy,
    OrderedItem,
)
from eventstore_core.capabilities import Capabilities
from eventstore_core.exceptions import DataIntegrityError
from eventstore_core.sequenceditem import SequencedItem, StoredEvent
from sqlalchemy import Column, Dialect, Engine, Select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, scoped_session

from . import databases, timestamps
from .compiled import CompiledSelect
from .connections import OwnTransaction, SessionTransaction
from .databases import Appender, Database
from .datastore import SQLAlchemyDatastore, SQLAlchemySettings, as_table
from .errors import translate_error, translate_write_error
from .limits import ColumnLimits
from .records import GLOBAL_POSITION, IntegerSequencedItemRecord, StoredEventRecord
from .retry import RETRY_TIMEOUT
from .selects import BOUNDS, Selects

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]
R = TypeVar("R")

Source = OwnTransaction | SessionTransaction


class SQLAlchemyActiveRecordStrategy(AbstractActiveRecordStrategy[T]):
    """Writes and reads sequenced items in the table of ``active_record_class``.

    ``session`` is any SQLAlchemy ``Session`` or ``scoped_session`` (see ``connections`` for
    how the strategy uses a transaction the caller has open). Without one, the strategy makes
    its own datastore from ``settings`` (or ``uri``, or ``EVENTSTORE_URI``, or the SQLite
    default), creates its table if it does not exist, and ``close()`` releases its
    connections. ``retry_timeout`` bounds how long a busy or deadlocked write is retried.

    ``capabilities.global_order`` is true where the table has a ``global_position`` column
    (``read_all``, ``CatchUpSubscription``); on PostgreSQL ``wait_for_items`` is woken by
    ``LISTEN``/``NOTIFY``, elsewhere it polls.
    """

    capabilities = Capabilities(
        transactions_across_sequences=True,
        shared_between_processes=True,
        global_order=True,
        timestamp_positions=True,
        snapshots=True,
    )

    def __init__(
        self,
        sequenced_item_class: type[T] = SequencedItem,  # type: ignore[assignment]
        active_record_class: Any = None,
        session: Session | scoped_session[Session] | None = None,
        *,
        settings: SQLAlchemySettings | None = None,
        uri: str | URL | None = None,
        retry_timeout: float = RETRY_TIMEOUT,
    ) -> None:
        if active_record_class is None:
            active_record_class = default_record_class(sequenced_item_class)
        super().__init__(
            active_record_class=active_record_class, sequenced_item_class=sequenced_item_class
        )
        self.table = as_table(active_record_class)
        self.columns = columns_for(self.table, sequenced_item_class)
        #: The global position column, or None if the table has no global order.
        self.global_position: Column[Any] | None = self.table.c.get(GLOBAL_POSITION)
        self._timestamps = isinstance(self.columns[1].type, timestamps.MicrosecondTimestamp)
        if self._timestamps and not hasattr(active_record_class, "position_type"):
            self.position_type = Decimal  # a user's own record class with timestamp positions
        self.datastore: SQLAlchemyDatastore | None = None
        if session is None:
            self.datastore = SQLAlchemyDatastore(
                settings=settings or SQLAlchemySettings(uri), tables=(active_record_class,)
            )
            self.datastore.setup_tables()
            session = self.datastore.session
        self.session = session
        self.retry_timeout = retry_timeout
        self.selects = Selects(self.columns, self.global_position)
        self.limits = ColumnLimits(self.columns)
        self._own: OwnTransaction | None = None
        self._appenders: dict[Database, Appender] = {}
        self._compiled: dict[tuple[Select[Any], Dialect], CompiledSelect] = {}
        self._read_all_statements: dict[Database, Any] = {}
        self._listener: Any = None  # None: not looked for yet; False: the database has none
        #: The last global position this strategy wrote, until readers see it (PostgreSQL).
        self._written_up_to: int | None = None
        if self.global_position is None:
            self.capabilities = replace(self.capabilities, global_order=False)  # type: ignore[misc]
        engine = self._engine()
        if engine is not None and not databases.for_engine(engine).shared_between_processes(
            engine.url
        ):
            self.capabilities = replace(  # type: ignore[misc]
                self.capabilities, shared_between_processes=False
            )

    # -- writing ------------------------------------------------------------------------
    def _append(self, items: list[T]) -> None:
        self.limits.check(items)
        database = None
        try:
            source = self._source()
            database = source.database
            appender = self._appenders.get(database)
            if appender is None:
                appender = self._appenders[database] = database.appender(
                    self.table, self.columns, self.global_position
                )
            written = source.write(
                lambda cursor: appender.append(cursor, items), alone=appender.alone(items)
            )
        except Exception as error:
            raise translate_write_error(error, items, self._url(), database) from error
        if written is not None:
            self._written_up_to = written

    # -- reading ------------------------------------------------------------------------
    def _get_items(
        self,
        sequence_id: Any,
        gt: Any,
        gte: Any,
        lt: Any,
        lte: Any,
        limit: int | None,
        is_ascending: bool,
    ) -> list[T]:
        """The items of one sequence within the bounds, given clean arguments."""
        params: dict[str, Any] = {"sequence_id": sequence_id}
        for name, value in zip(BOUNDS, (gt, gte, lt, lte), strict=True):
            if value is not None:
                params[name] = timestamps.bound(name, value) if self._timestamps else value
        if limit is not None:
            params["limit"] = limit
        statement = self.selects.by_sequence(frozenset(params), bool(is_ascending))
        source = None
        try:
            source = self._source()
            rows = self._select(source, statement, params)
        except Exception as error:
            raise self._read_error(error, f"read of sequence {sequence_id}", source) from error
        new, cls = tuple.__new__, self.sequenced_item_class
        return [new(cls, (sequence_id, *row)) for row in rows]

    def _iter_pages(self, page_size: int) -> Iterator[list[T]]:
        after: tuple[Any, Any] | None = None
        while True:
            source = None
            try:
                source = self._source()
                page = self._read_page(source, after, page_size)
            except Exception as error:
                raise self._read_error(error, f"read of {self.table.name}", source) from error
            if page:
                yield page
            if len(page) < page_size:
                return
            after = (page[-1][0], page[-1][1])

    def _read_page(self, source: Source, after: tuple[Any, Any] | None, size: int) -> list[T]:
        """The ``size`` items after ``after`` in (sequence, position) order: keyset pages."""
        cls, new = self.sequenced_item_class, tuple.__new__
        if after is None:
            rows = self._select(source, self.selects.first_page, {"limit": size})
            return [new(cls, row) for row in rows]
        sequence_id, position = after
        params = {"sequence_id": sequence_id, "position": position, "limit": size}
        rows = self._select(source, self.selects.rest_of_sequence, params)
        page = [new(cls, (sequence_id, *row)) for row in rows]
        if len(page) < size:
            params = {"sequence_id": sequence_id, "limit": size - len(page)}
            rows = self._select(source, self.selects.next_sequences, params)
            page.extend(new(cls, row) for row in rows)
        return page

    def _select(self, source: Source, statement: Select[Any], params: dict[str, Any]) -> list[Any]:
        """The rows of one select on ``source``, its values converted by the column types."""
        dialect = source.database.dialect
        compiled = self._compiled.get((statement, dialect))
        if compiled is None:
            compiled = self._compiled[(statement, dialect)] = CompiledSelect(statement, dialect)
        rows = source.read(lambda cursor: compiled.fetch(cursor, params))
        return self._checked(lambda: compiled.convert(rows))

    def _checked(self, read: Callable[[], R]) -> R:
        try:
            return read()
        except (ValueError, TypeError) as error:  # a stored value the column type cannot read
            raise DataIntegrityError(
                f"a stored row of table {self.table.name} cannot be read: {error}"
            ) from error

    def _read_error(self, error: Exception, what: str, source: Source | None) -> Exception:
        return translate_error(
            error, what, self._url(), None if source is None else source.database
        )

    # -- the global order ---------------------------------------------------------------
    def _read_all(self, after: int, limit: int) -> list[OrderedItem]:
        """Items with a global position above ``after``, in that order, at most ``limit``.

        One range scan of the unique global position index, stopping where the database
        says readers must (``Database.read_all_statement``): resuming after the last
        position read never misses an item.
        """
        if self.selects.read_all is None or self.global_position is None:
            raise NotImplementedError(
                f"table {self.table.name} has no {GLOBAL_POSITION} column, so no global order "
                f"(capabilities.global_order is False)"
            )
        source = None
        try:
            source = self._source()
            database = source.database
            statement = self._read_all_statements.get(database)
            if statement is None:
                statement = self._read_all_statements[database] = database.read_all_statement(
                    self.selects.read_all, self.global_position
                )
            written = self._written_up_to
            if written is not None and after < written and database.wait_for_own_write(
                self._read_one(source), self.global_position, written
            ):
                self._written_up_to = None
            rows = self._select(source, statement, {"after": after, "limit": limit})
        except Exception as error:
            raise self._read_error(
                error, f"read_all of table {self.table.name}", source
            ) from error
        new, cls = tuple.__new__, self.sequenced_item_class
        return [new(OrderedItem, (row[0], new(cls, row[1:]))) for row in rows]

    def _read_one(self, source: Source) -> Callable[[Any, dict[str, Any]], Any]:
        return lambda statement, params: self._select(source, statement, params)[0]

    def wait_for_items(self, after: int, timeout: float) -> None:
        """Return when items may have been stored above ``after``, or after ``timeout``.

        Where the database has a way to be told (PostgreSQL's ``LISTEN``, on a connection of
        its own), it waits for a writer's notification, then until ``read_all`` can return
        what was committed; elsewhere this sleeps a little (polling).
        """
        deadline = time.monotonic() + timeout
        listener = self._listener
        if listener is None:
            engine = self._engine()
            if engine is not None and self.global_position is not None:
                found = databases.for_engine(engine).listener(engine, self.table)
                listener = self._listener = found if found is not None else False
        if not listener:
            super().wait_for_items(after, timeout)
            return
        listener.wait(timeout)
        assert self.global_position is not None
        source = None
        try:
            source = self._source()
            source.database.wait_below_horizon(
                self._read_one(source), self.global_position, after, deadline
            )
        except Exception as error:
            raise self._read_error(error, f"wait on {self.table.name}", source) from error

    def close(self) -> None:
        """Release the connections of a strategy that made its own datastore (and any
        connection that listens for notifications)."""
        listener, self._listener = self._listener, None
        if listener:
            listener.close()
        if self.datastore is not None:
            self.datastore.drop_connection()

    def describe(self) -> dict[str, Any]:
        """The table, its counts and its size on disk, for ``eventstore info``."""
        from .describe import describe

        source = self._source()
        return self._checked(lambda: source.core(
            lambda conn: describe(
                conn, self.table, self.columns[0], self.global_position, source.database
            ),
            write=False,
        ))

    # -- plumbing -----------------------------------------------------------------------
    def current_session(self) -> Session:
        """The ``Session`` to use now (this thread's own, for a scoped session)."""
        session = self.session
        return session() if isinstance(session, scoped_session) else session

    def _source(self) -> Source:
        """Where this call's connection and transaction come from (``connections``): the
        strategy's own where the session has no transaction open and is bound to an engine,
        else the session's."""
        session = self.current_session()
        bind = session.get_bind(clause=self.table)
        if isinstance(bind, Engine) and session.get_transaction() is None:
            own = self._own
            if own is None or own.engine is not bind:
                own = self._own = OwnTransaction(
                    bind, self._database(bind.dialect), self.retry_timeout
                )
            return own
        return SessionTransaction(
            session, self.table, self._database(bind.dialect), self.retry_timeout
        )

    def _database(self, dialect: Dialect) -> Database:
        """What the database of ``dialect`` does its own way (``databases``)."""
        return databases.for_dialect(dialect)

    def _url(self) -> URL | None:
        """The database URL, for messages (None if the session has no bind yet)."""
        engine = self._engine()
        return None if engine is None else engine.url

    def _engine(self) -> Engine | None:
        """The engine the session uses for the table (None if it has no bind yet)."""
        try:
            return self.current_session().get_bind(clause=self.table).engine
        except Exception:  # only for messages and notifications: never mask another error
            return None

    def __repr__(self) -> str:
        url = self._url()
        where = url.render_as_string() if url is not None else "?"
        return (
            f"{type(self).__name__}(sequenced_item_class={self.sequenced_item_class.__name__}, "
            f"table={self.table.name!r}, database={where!r})"
        )


def default_record_class(sequenced_item_class: type) -> Any:
    """The library's record class matching a sequenced item class, by field names."""
    fields = getattr(sequenced_item_class, "_fields", None)
    for item_class, record_class in (
        (SequencedItem, IntegerSequencedItemRecord),
        (StoredEvent, StoredEventRecord),
    ):
        if fields == item_class._fields:
            return record_class
    raise TypeError(
        f"active_record_class is required for {sequenced_item_class!r}: the library's record "
        f"classes match SequencedItem and StoredEvent"
    )


def columns_for(table: Any, sequenced_item_class: type) -> list[Column[Any]]:
    """The table's columns named like the namedtuple's fields, in the namedtuple's order."""
    fields: tuple[str, ...] = sequenced_item_class._fields  # type: ignore[attr-defined]
    missing = [name for name in fields if name not in table.c]
    if missing:
        raise TypeError(
            f"table {table.name!r} has no column(s) {', '.join(missing)} for the fields of "
            f"{sequenced_item_class.__name__}; its columns are {', '.join(table.c.keys())}"
        )
    return [table.c[name] for name in fields]
