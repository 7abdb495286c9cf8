"""``SQLAlchemyActiveRecordStrategy``: sequenced items in a SQL table, through SQLAlchemy.

The hot paths, short and measured:

* append: the items are checked, then written in one transaction (``transactions``): one
  ``executemany`` of an insert compiled once per dialect (``inserts``), or on PostgreSQL,
  for lists, one ``COPY`` (``postgres``). A taken position fails the whole list, atomically.
* read: one SQLAlchemy Core ``select`` (``selects``), whose rows become namedtuples directly.
  No ORM objects are made on either path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from eventstore_core.activerecordstrategy import AbstractActiveRecordStrategy
from eventstore_core.capabilities import Capabilities
from eventstore_core.exceptions import DataIntegrityError, InvalidEventError
from eventstore_core.sequenceditem import SequencedItem, StoredEvent
from sqlalchemy import Column, Connection, Select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, scoped_session

from . import postgres, sqlite, transactions
from .datastore import SQLAlchemyDatastore, SQLAlchemySettings, as_table
from .errors import translate_error, translate_write_error
from .inserts import CompiledInsert
from .limits import ColumnLimits
from .records import IntegerSequencedItemRecord, StoredEventRecord
from .retry import RETRY_TIMEOUT
from .selects import BOUNDS, Selects

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]
R = TypeVar("R")

#: Lists of at least this many items go in through ``COPY`` on PostgreSQL (measured here:
#: faster than executemany from two items on).
COPY_THRESHOLD = 2


class SQLAlchemyActiveRecordStrategy(AbstractActiveRecordStrategy[T]):
    """Writes and reads sequenced items in the table of ``active_record_class``.

    ``session`` is any SQLAlchemy ``Session`` or ``scoped_session`` (see ``transactions`` for
    how the strategy uses a transaction the caller has open). Without one, the strategy makes
    its own datastore from ``settings`` (or ``uri``, or ``EVENTSTORE_URI``, or the SQLite
    default), creates its table if it does not exist, and ``close()`` releases its
    connections. ``retry_timeout`` bounds how long a busy or deadlocked write is retried.
    """

    capabilities = Capabilities(transactions_across_sequences=True, shared_between_processes=True)

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
        self.datastore: SQLAlchemyDatastore | None = None
        if session is None:
            self.datastore = SQLAlchemyDatastore(
                settings=settings or SQLAlchemySettings(uri), tables=(active_record_class,)
            )
            self.datastore.setup_tables()
            session = self.datastore.session
        self.session = session
        self.retry_timeout = retry_timeout
        self.selects = Selects(self.columns)
        self.limits = ColumnLimits(self.columns)
        self._inserts: dict[str, CompiledInsert] = {}
        self._copy: postgres.CopyStatement | None = None
        if self._is_memory_database():
            self.capabilities = replace(  # type: ignore[misc]
                self.capabilities, shared_between_processes=False
            )

    # -- writing ------------------------------------------------------------------------
    def _append(self, items: list[T]) -> None:
        self.limits.check(items)
        try:
            self._run(lambda conn: self._insert(conn, items), write=True)
        except Exception as error:
            raise translate_write_error(error, items, self._url()) from error

    def _insert(self, conn: Connection, items: list[T]) -> None:
        if len(items) >= COPY_THRESHOLD and postgres.can_copy(conn):
            postgres.copy_items(conn, self._copy_statement(conn), items)
        else:
            statement = self._compiled_insert(conn)
            conn.exec_driver_sql(statement.sql, statement.parameters(items))

    # -- reading ------------------------------------------------------------------------
    def get_items(
        self,
        sequence_id: Any,
        gt: Any = None,
        gte: Any = None,
        lt: Any = None,
        lte: Any = None,
        limit: int | None = None,
        is_ascending: bool = True,
    ) -> list[T]:
        self.check_limit(limit)
        self._check_sequence_id(sequence_id)
        if limit == 0:
            return []
        params: dict[str, Any] = {"sequence_id": sequence_id}
        for name, value in zip(BOUNDS, (gt, gte, lt, lte), strict=True):
            if value is not None:
                params[name] = value
        if limit is not None:
            params["limit"] = limit
        statement = self.selects.by_sequence(frozenset(params), bool(is_ascending))
        try:
            rows = self._run(lambda conn: conn.execute(statement, params).fetchall())
        except Exception as error:
            raise translate_error(error, f"read of sequence {sequence_id}", self._url()) from error
        new, cls = tuple.__new__, self.sequenced_item_class
        return [new(cls, (sequence_id, *row)) for row in rows]

    def _iter_pages(self, page_size: int) -> Iterator[list[T]]:
        after: tuple[Any, Any] | None = None
        while True:
            try:
                page = self._run(partial(self._read_page, after=after, size=page_size))
            except Exception as error:
                raise translate_error(error, f"read of {self.table.name}", self._url()) from error
            if page:
                yield page
            if len(page) < page_size:
                return
            after = (page[-1][0], page[-1][1])

    def _read_page(self, conn: Connection, after: tuple[Any, Any] | None, size: int) -> list[T]:
        """The ``size`` items after ``after`` in (sequence, position) order: keyset pages."""
        cls, new = self.sequenced_item_class, tuple.__new__
        if after is None:
            rows = self._fetch(conn, self.selects.first_page, {"limit": size})
            return [new(cls, row) for row in rows]
        sequence_id, position = after
        params = {"sequence_id": sequence_id, "position": position, "limit": size}
        rows = self._fetch(conn, self.selects.rest_of_sequence, params)
        page = [new(cls, (sequence_id, *row)) for row in rows]
        if len(page) < size:
            params = {"sequence_id": sequence_id, "limit": size - len(page)}
            rows = self._fetch(conn, self.selects.next_sequences, params)
            page.extend(new(cls, row) for row in rows)
        return page

    def _fetch(self, conn: Connection, statement: Select[Any], params: dict[str, Any]) -> Any:
        try:
            return conn.execute(statement, params).fetchall()
        except (ValueError, TypeError) as error:  # a stored value the column type cannot read
            raise DataIntegrityError(
                f"a stored row of table {self.table.name} cannot be read: {error}"
            ) from error

    def close(self) -> None:
        """Release the connections of a strategy that made its own datastore."""
        if self.datastore is not None:
            self.datastore.drop_connection()

    # -- plumbing -----------------------------------------------------------------------
    def current_session(self) -> Session:
        """The ``Session`` to use now (this thread's own, for a scoped session)."""
        session = self.session
        return session() if isinstance(session, scoped_session) else session

    def _run(self, work: Callable[[Connection], R], write: bool = False) -> R:
        return transactions.run(
            self.current_session(),
            self.table,
            work,
            write=write,
            retry_timeout=self.retry_timeout,
        )

    def _compiled_insert(self, conn: Connection) -> CompiledInsert:
        name = conn.dialect.name
        statement = self._inserts.get(name)
        if statement is None:
            statement = self._inserts[name] = CompiledInsert(self.table, self.columns, conn.dialect)
        return statement

    def _copy_statement(self, conn: Connection) -> postgres.CopyStatement:
        if self._copy is None:
            self._copy = postgres.CopyStatement.for_table(conn, self.table, self.columns)
        return self._copy

    def _check_sequence_id(self, sequence_id: Any) -> None:
        if not isinstance(sequence_id, self.sequence_id_type):
            raise InvalidEventError(
                f"sequence id {sequence_id!r} has type {type(sequence_id).__name__}, "
                f"expected UUID"
            )

    def _url(self) -> URL | None:
        """The database URL, for messages (None if the session has no bind yet)."""
        try:
            return self.current_session().get_bind(clause=self.table).engine.url
        except Exception:  # only for messages: never mask the error being reported
            return None

    def _is_memory_database(self) -> bool:
        url = self._url()
        return url is not None and url.get_backend_name() == "sqlite" and (
            sqlite.is_memory_database(url)
        )

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
