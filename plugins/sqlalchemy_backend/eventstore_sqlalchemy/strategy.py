"""``SQLAlchemyActiveRecordStrategy``: sequenced items in a SQL table, through SQLAlchemy.

The hot paths, short and measured:

* append: the items are checked, then written in one transaction (``transactions``): one
  ``executemany`` of an insert compiled once per dialect (``inserts``), or on PostgreSQL,
  for lists, one ``COPY`` (``postgres``). A taken position fails the whole list, atomically.
* read: one SQLAlchemy Core ``select`` (``selects``), whose rows become namedtuples directly.
  No ORM objects are made on either path.
* where the strategy chooses the transaction (the session has none open) on SQLite or on
  PostgreSQL through psycopg, both run on the pool's DB-API connection (``direct``): reads
  as single statements outside any explicit transaction, SQLite writes in ``BEGIN
  IMMEDIATE``, and PostgreSQL's append of one item as one autocommit statement.

Tables with a ``global_position`` column (the library's event tables) have a global order:
each write takes its items' global positions so that none can appear below a position a
reader has passed (``globalorder``: on PostgreSQL from the writer's transaction id, with
readers stopping below the oldest transaction still running), and ``read_all`` pages through
them with one indexed range query. Tables whose position column is a ``MicrosecondTimestamp`` hold
``Decimal`` timestamp positions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from eventstore_core.activerecordstrategy import (
    AbstractActiveRecordStrategy,
    OrderedItem,
)
from eventstore_core.capabilities import Capabilities
from eventstore_core.exceptions import DataIntegrityError
from eventstore_core.sequenceditem import SequencedItem, StoredEvent
from sqlalchemy import (
    Column,
    Connection,
    Dialect,
    Engine,
    Select,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, scoped_session

from . import direct, postgres, sqlite, timestamps, transactions
from .datastore import SQLAlchemyDatastore, SQLAlchemySettings, as_table
from .errors import translate_error, translate_write_error
from .globalorder import PostgresListener, Reservation
from .inserts import CompiledInsert
from .limits import ColumnLimits
from .records import GLOBAL_POSITION, IntegerSequencedItemRecord, StoredEventRecord
from .retry import RETRY_TIMEOUT, retry_transient
from .selects import BOUNDS, Selects

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]
R = TypeVar("R")

#: Seconds ``read_all`` waits, at most, for its own last write to be below the horizon.
READ_YOUR_WRITES_WAIT = 10.0
_HORIZON: Any = select(
    literal_column(postgres.HORIZON_SQL),
    literal_column(
        f"pg_current_xact_id_if_assigned()::text::bigint << {postgres.TRANSACTION_BITS}"
    ),
)

#: Lists of at least this many items go in through ``COPY`` on PostgreSQL.
COPY_THRESHOLD = 2


class SQLAlchemyActiveRecordStrategy(AbstractActiveRecordStrategy[T]):
    """Writes and reads sequenced items in the table of ``active_record_class``.

    ``session`` is any SQLAlchemy ``Session`` or ``scoped_session`` (see ``transactions`` for
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
        self._inserts: dict[str, CompiledInsert] = {}
        self._compiled_selects: dict[Select[Any], tuple[Any, direct.CompiledSelect]] = {}
        self._copy: postgres.CopyStatement | None = None
        self._numbered: postgres.NumberedInsert | None = None
        self._reservation = Reservation(self.table) if self.global_position is not None else None
        self._listener: PostgresListener | None = None
        self._horizon: Select[Any] | None = None
        #: PostgreSQL: the last global position this strategy committed, until readers see it.
        self._written_up_to: int | None = None
        if self.global_position is None:
            self.capabilities = replace(self.capabilities, global_order=False)  # type: ignore[misc]
        if self._is_memory_database():
            self.capabilities = replace(  # type: ignore[misc]
                self.capabilities, shared_between_processes=False
            )

    # -- writing ------------------------------------------------------------------------
    def _append(self, items: list[T]) -> None:
        self.limits.check(items)
        try:
            if not self._append_directly(items):
                self._run(lambda conn: self._insert(conn, items), write=True)
        except Exception as error:
            raise translate_write_error(error, items, self._url()) from error

    def _append_directly(self, items: list[T]) -> bool:
        """Where the strategy chooses the transaction (``_direct_engine``), on a DB-API
        connection: on SQLite, the insert in a ``BEGIN IMMEDIATE`` transaction; on PostgreSQL,
        the append of one item as one statement in autocommit mode, its own transaction (one
        round trip). False where neither applies (the SQLAlchemy way then does the append)."""
        engine = self._direct_engine()
        if engine is None:
            return False
        if engine.dialect.name == "sqlite":
            statement = self._compiled_insert(engine.dialect)
            parameters = statement.parameters(items)
            retry_transient(
                lambda: direct.write_sqlite(engine, statement.sql, parameters), self.retry_timeout
            )
            return True
        if len(items) > 1:
            return self._copy_directly(engine, items)
        if self._reservation is None:
            compiled = self._compiled_insert(engine.dialect)
            sql, parameters = compiled.sql, compiled.parameters(items)
        else:
            numbered = self._numbered_insert(engine.dialect)
            sql, parameters = numbered.sql, numbered.parameters(items[0])
        rowcount, row = retry_transient(
            lambda: direct.execute(engine, sql, parameters), self.retry_timeout
        )
        if row is not None:
            self._written_up_to = row[0]
        return rowcount == 1

    def _copy_directly(self, engine: Engine, items: list[T]) -> bool:
        """PostgreSQL: a list of items through ``COPY``, after taking their global positions,
        in one transaction on a DB-API connection (``direct.copy_postgres``)."""
        dialect, reservation = engine.dialect, self._reservation

        last: list[int] = []

        def copy(cursor: Any, first: int) -> None:
            statement = self._copy_statement(dialect, cursor.connection)
            postgres.write_rows(cursor, statement, items, first)
            last[:] = [first + len(items) - 1]

        take = None if reservation is None else reservation.statement(dialect)
        retry_transient(
            lambda: direct.copy_postgres(engine, take, len(items), copy), self.retry_timeout
        )
        if reservation is not None:
            self._written_up_to = last[0]
        return True

    def _insert(self, conn: Connection, items: list[T]) -> None:
        if len(items) >= COPY_THRESHOLD and postgres.can_copy(conn):
            first = self._reserve(conn, len(items)) if self._reservation is not None else 0
            copy = self._copy_statement(conn.dialect, conn.connection.driver_connection)
            postgres.copy_items(conn, copy, items, first)
            if self._reservation is not None:
                self._written_up_to = first + len(items) - 1
            return
        statement = self._compiled_insert(conn.dialect, conn)
        if self._reservation is None or statement.numbers_rows:  # no counter to take from
            conn.exec_driver_sql(statement.sql, statement.parameters(items))
        elif len(items) > 1 or not self._insert_numbered_one(conn, items[0]):
            first = self._reserve(conn, len(items))
            conn.exec_driver_sql(statement.sql, statement.parameters(items, first))

    def _insert_numbered_one(self, conn: Connection, item: T) -> bool:
        """PostgreSQL: take the global position and insert the item in one statement.

        False where that does not apply (other databases), or when the transaction's
        positions are used up (``_reserve`` then says so).
        """
        if conn.dialect.name != "postgresql":
            return False
        numbered = self._numbered_insert(conn.dialect)
        row = conn.exec_driver_sql(numbered.sql, numbered.parameters(item)).first()
        if row is None:
            return False
        self._written_up_to = row[0]
        return True

    def _reserve(self, conn: Connection, count: int) -> int:
        """Take ``count`` global positions, held until ``conn``'s transaction ends."""
        assert self._reservation is not None
        return self._reservation.take(conn, count)

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
        try:
            rows = self._select(statement, params)
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
        return self._checked(lambda: conn.execute(statement, params).fetchall())

    def _checked(self, read: Callable[[], R]) -> R:
        try:
            return read()
        except (ValueError, TypeError) as error:  # a stored value the column type cannot read
            raise DataIntegrityError(
                f"a stored row of table {self.table.name} cannot be read: {error}"
            ) from error

    def _select(self, statement: Select[Any], params: dict[str, Any]) -> Sequence[Any]:
        """The rows of one select: straight on a pooled DB-API connection where the strategy
        chooses the transaction and the database allows it (``direct``), else in the
        transaction ``transactions`` chooses."""
        engine = self._direct_engine()
        if engine is None:
            return self._run(lambda conn: conn.execute(statement, params).fetchall())
        compiled = self._compiled_selects.get(statement)
        if compiled is None or compiled[0] is not engine.dialect:
            compiled = self._compiled_selects[statement] = (
                engine.dialect, direct.CompiledSelect(statement, engine.dialect)
            )
        return retry_transient(
            lambda: direct.fetch(engine, compiled[1], params), self.retry_timeout
        )

    def _direct_engine(self) -> Engine | None:
        """The engine to use through ``direct`` (its DB-API connections): where the session
        has no transaction open and is bound to an engine ``direct`` serves; else None."""
        session = self.current_session()
        if session.get_transaction() is not None:
            return None
        bind = session.get_bind(clause=self.table)
        return bind if isinstance(bind, Engine) and direct.runs_directly(bind) else None

    # -- the global order ---------------------------------------------------------------
    def _read_all(self, after: int, limit: int) -> list[OrderedItem]:
        """Items with a global position above ``after``, in that order, at most ``limit``.

        One range scan of the unique global position index. Positions are in commit order
        (``globalorder``): resuming after the last position read never misses an item.
        """
        statement = self.selects.read_all
        if statement is None:
            raise NotImplementedError(
                f"table {self.table.name} has no {GLOBAL_POSITION} column, so no global order "
                f"(capabilities.global_order is False)"
            )
        params = {"after": after, "limit": limit}
        if self._dialect_name() == "postgresql":
            statement = self._read_all_below_horizon(statement)
            if self._written_up_to is not None and after < self._written_up_to:
                self._wait_for_horizon(self._written_up_to)
        try:
            rows = self._checked(lambda: self._select(statement, params))
        except Exception as error:
            raise translate_error(
                error, f"read_all of table {self.table.name}", self._url()
            ) from error
        new, cls = tuple.__new__, self.sequenced_item_class
        return [new(OrderedItem, (row[0], new(cls, row[1:]))) for row in rows]

    def _read_all_below_horizon(self, statement: Select[Any]) -> Select[Any]:
        """PostgreSQL: ``read_all`` stops below the oldest transaction still running
        (``globalorder``)."""
        if self._horizon is None:
            assert self.global_position is not None
            self._horizon = statement.where(
                self.global_position < literal_column(postgres.HORIZON_SQL)
            )
        return self._horizon

    def _wait_for_horizon(self, position: int) -> None:
        """PostgreSQL: a reader sees its own committed writes. Wait (at most
        ``READ_YOUR_WRITES_WAIT`` seconds) until the transactions that began before this
        strategy's last write have ended, so that ``read_all`` returns it; after that it
        returns what is safe to return, as always."""
        deadline = time.monotonic() + READ_YOUR_WRITES_WAIT
        delay = 0.001
        own = position >> postgres.TRANSACTION_BITS << postgres.TRANSACTION_BITS
        while True:
            horizon, current = self._select(_HORIZON, {})[0]
            if current == own:
                return  # the write is the reader's own transaction's, still open: no wait
            if horizon > position or time.monotonic() > deadline:
                self._written_up_to = None
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _dialect_name(self) -> str | None:
        engine = self._engine()
        return None if engine is None else engine.dialect.name

    def wait_for_items(self, after: int, timeout: float) -> None:
        """Return when items may have been stored above ``after``, or after ``timeout``.

        On PostgreSQL (psycopg 3) a connection of its own ``LISTEN``s to the table's channel,
        which writers notify at commit; items committed above ``after`` but still above the
        horizon (an older transaction still running) are waited for until ``read_all`` can
        return them. Elsewhere this sleeps a little (polling).
        """
        deadline = time.monotonic() + timeout
        listener = self._listener
        if listener is None:
            engine = self._engine()
            if engine is not None and engine.dialect.name == "postgresql" and (
                engine.dialect.driver == "psycopg" and self._reservation is not None
            ):
                listener = self._listener = PostgresListener(engine, self._reservation.channel)
        if listener is None:
            super().wait_for_items(after, timeout)
            return
        listener.wait(timeout)
        assert self.global_position is not None
        gp = self.global_position
        pending = select(
            select(func.min(gp)).where(gp > bindparam("after")).scalar_subquery(),
            literal_column(postgres.HORIZON_SQL),
        )
        delay = 0.001
        while True:
            try:
                following, horizon = self._select(pending, {"after": after})[0]
            except Exception as error:
                raise translate_error(error, f"wait on {self.table.name}", self._url()) from error
            remaining = deadline - time.monotonic()
            if following is None or following < horizon or remaining <= 0:
                return  # nothing held back: the caller reads (and waits again if need be)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)

    def close(self) -> None:
        """Release the connections of a strategy that made its own datastore (and any
        connection that listens for notifications)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self.datastore is not None:
            self.datastore.drop_connection()

    def describe(self) -> dict[str, Any]:
        """The table, its counts and its size on disk, for ``eventstore info``."""
        from .describe import describe

        return self._checked(lambda: self._run(
            lambda conn: describe(conn, self.table, self.columns[0], self.global_position)))

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

    def _compiled_insert(self, dialect: Dialect, conn: Connection | None = None) -> CompiledInsert:
        """The insert for ``dialect``; on SQLite made once the table's layout is known, read
        on ``conn`` (a connection in use) or else on a connection of its own."""
        statement = self._inserts.get(dialect.name)
        if statement is None:
            rowid = False
            if dialect.name == "sqlite" and self.global_position is not None:
                # As the table is in the file: one made before the rowid layout has a plain
                # global_position column, and keeps working.
                def probe(connection: Connection) -> bool:
                    return sqlite.is_rowid(connection, self.table, GLOBAL_POSITION)

                rowid = probe(conn) if conn is not None else self._run(probe)
            statement = self._inserts[dialect.name] = CompiledInsert(
                self.table, self.columns, dialect, self.global_position, rowid=rowid
            )
        return statement

    def _numbered_insert(self, dialect: Dialect) -> postgres.NumberedInsert:
        if self._numbered is None:
            assert self.global_position is not None and self._reservation is not None
            self._numbered = postgres.NumberedInsert(
                self.table, self.columns, self.global_position, self._reservation.channel,
                dialect,
            )
        return self._numbered

    def _copy_statement(self, dialect: Dialect, driver_connection: Any) -> postgres.CopyStatement:
        if self._copy is None:
            self._copy = postgres.CopyStatement.for_table(
                dialect, driver_connection, self.table, self.columns, self.global_position
            )
        return self._copy

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
