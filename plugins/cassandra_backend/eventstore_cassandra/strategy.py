"""``CassandraActiveRecordStrategy``: sequenced items in a Cassandra table.

Writing. One item is ``INSERT ... IF NOT EXISTS``; a list for one sequence is one conditional
batch in that sequence's partition, which Cassandra applies all or nothing. Either way a taken
position is a ``ConcurrencyError`` and nothing of the call is written. A list that spans
several sequences cannot be atomic in Cassandra (a conditional batch is limited to one
partition), so it is refused with ``InvalidEventError`` before anything is written; the
capabilities say ``transactions_across_sequences=False``. A write whose outcome the driver
cannot tell is settled by proposing it again (see ``outcome``). With the feed on (the
default), an append first writes its feed entry and its rows carry the entry's nonce (see
``feed``); ``read_all`` reads the feed.

Reading. ``_get_items`` is one prepared range query: bounds, clustering order and ``LIMIT`` are
all applied by the server, and long results are paged by the driver. ``all_items`` walks the
partitions in token order, one bounded query per page.

One implementation, sync and async. Every operation with I/O (an append with its feed entry,
conditional write, settling and confirm; a read with its pages; a page of ``all_items``; the
feed's reading) is a step function of ``CassandraStrategyBase`` (see ``steps``). This class
runs them with blocking calls; ``AsyncCassandraActiveRecordStrategy`` (``aio``) awaits the
same steps.

Connection. With ``session=``, that session is used (``keyspace=`` or the settings name the
keyspace). Without it, the strategy follows the default connection that
``CassandraDatastore.setup_connection()`` set, as in the user's document; with ``settings=``
(or when there is no default connection) it makes its own datastore, creates its table, and
``close()`` shuts that connection down.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from cassandra.cluster import Session
from cassandra.query import BatchStatement, BatchType, BoundStatement
from eventstore_core.activerecordstrategy import (
    AbstractActiveRecordStrategy,
    OrderedItem,
    StrategyRules,
)
from eventstore_core.capabilities import Capabilities
from eventstore_core.exceptions import (
    ConcurrencyError,
    ConfigurationError,
    DatastoreError,
    EventStoreError,
    InvalidEventError,
)
from eventstore_core.sequenceditem import SequencedItem, StoredEvent

from . import datastore as datastore_module
from .datastore import CassandraConnection, CassandraDatastore
from .errors import describe, is_outcome_unknown, is_too_large, translate
from .feed import Feed, check_size, read_error
from .outcome import settle
from .records import (
    CassandraRecord,
    IntegerSequencedItemRecord,
    StoredEventRecord,
    record_description,
)
from .settings import CassandraSettings
from .statements import LowerOp, RecordStatements, UpperOp
from .steps import HOLD, Execute, Steps, rest_of, run

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]

#: The smallest Murmur3 token; no partition has it, so "token > MIN_TOKEN" is every partition.
MIN_TOKEN = -(2**63)
_BIND_ERRORS = (TypeError, ValueError, OverflowError, struct.error, AttributeError)

#: Where ``all_items`` continues: (the token after which partitions are read, the sequence
#: and position after which a partition longer than a page continues, or None).
PageCursor = tuple[int, "tuple[Any, Any] | None"]
FIRST_PAGE: PageCursor = (MIN_TOKEN, None)


class CassandraStrategyBase(StrategyRules[T]):
    """What the sync and the async Cassandra strategy share: the connection, the prepared
    statements, and every operation as a step function (``*_steps``)."""

    capabilities = Capabilities(
        transactions_across_sequences=False,
        shared_between_processes=True,
        global_order=True,
        global_order_delay=5.0,  # CassandraSettings.feed_delay's default
        timestamp_positions=True,
        snapshots=True,
    )

    def __init__(
        self,
        active_record_class: type[CassandraRecord] | None = None,
        sequenced_item_class: type[T] = SequencedItem,  # type: ignore[assignment]
        session: Session | None = None,
        *,
        settings: CassandraSettings | None = None,
        keyspace: str | None = None,
    ) -> None:
        if active_record_class is None:
            active_record_class = default_record_class(sequenced_item_class)
        record = record_description(active_record_class)
        super().__init__(active_record_class=record, sequenced_item_class=sequenced_item_class)
        self.record = record
        self.datastore: CassandraDatastore | None = None
        self._fixed: CassandraConnection | None = None
        if session is not None:
            settings = settings if settings is not None else CassandraSettings()
            if keyspace is not None:
                settings.keyspace = keyspace
            self._fixed = CassandraConnection(session=session, settings=settings)
        elif settings is not None or datastore_module.get_default() is None:
            self.datastore = CassandraDatastore(settings=settings, tables=(record,))
            self.datastore.setup_connection(make_default=False)
            self.datastore.setup_tables()
            self._fixed = self.datastore.connection
        self._statements: RecordStatements | None = None
        self._feeds: dict[int, Feed] = {}
        settings_in_use = self.connection_settings()
        # What this store can do depends on its settings: the class says the defaults.
        vars(self)["capabilities"] = replace(
            type(self).capabilities, global_order=settings_in_use.feed,
            global_order_delay=settings_in_use.feed_delay if settings_in_use.feed else 0.0,
        )

    # -- connection ---------------------------------------------------------------------
    @property
    def connection(self) -> CassandraConnection:
        """The connection in use: the fixed one, else the module's default one."""
        connection = self._fixed or datastore_module.get_default()
        if connection is None:
            raise DatastoreError(
                "no Cassandra connection: call CassandraDatastore.setup_connection() first, "
                "or give CassandraActiveRecordStrategy a session= or settings="
            )
        return connection

    def connection_settings(self) -> CassandraSettings:
        """The settings of the connection in use (the default's if there is no fixed one)."""
        connection = self._fixed or datastore_module.get_default()
        return connection.settings if connection is not None else CassandraSettings()

    def statements(self, connection: CassandraConnection) -> RecordStatements:
        """Prepared statements for this record on the connection's session (made once)."""
        statements = self._statements
        if statements is None or statements.session is not connection.session:
            statements = RecordStatements(
                connection.session, connection.settings.keyspace, self.record
            )
            self._statements = statements
        return statements

    def _drop_own_connection(self) -> None:
        """Shut down the connection of a strategy that made its own datastore."""
        if self.datastore is not None:
            self.datastore.drop_connection()
            self.datastore = None
            self._fixed = None

    # -- writing ------------------------------------------------------------------------
    def _append_steps(self, connection: CassandraConnection, items: list[T]) -> Steps[None]:
        """An append: the feed entry, the conditional write (settled if its outcome is
        unknown), the confirm (see ``feed``)."""
        sequence_id = items[0][0]
        others = {item[0] for item in items if item[0] != sequence_id}
        if others:
            raise InvalidEventError(
                f"an atomic append to Cassandra must stay within one sequence: this list "
                f"has items of sequence {sequence_id} and of {', '.join(map(str, others))}. "
                f"Cassandra cannot write several partitions all-or-nothing with conditions; "
                f"append each sequence's items in a call of its own"
            )
        for item in items:
            if not isinstance(item[3], str):
                raise InvalidEventError(
                    f"data of sequence {item[0]} at position {item[1]} is "
                    f"{type(item[3]).__name__}; the Cassandra backend stores text (str)"
                )
        settings = connection.settings
        try:
            statements = self.statements(connection)
            insert = statements.insert()
        except EventStoreError:
            raise
        except Exception as error:
            raise translate(error, f"preparing the append to {self.record.table_name}",
                            settings.endpoints) from error
        feed = self._feed(connection, statements) if settings.feed else None
        announcement = None
        if feed is not None:
            check_size(items)
            positions = [item[1] for item in items]
            self._check_positions(positions, sequence_id)  # a bad value: no feed entry either
            announcement = yield from feed.announce(sequence_id, min(positions), max(positions))
        feed_id = announcement.nonce if announcement is not None else None
        statement = self._write_statement([self._bind(insert, item, feed_id) for item in items])
        self._feed_step("sending")
        yield HOLD  # from here on, a cancelled task waits until the outcome is settled
        try:
            result = yield Execute(statement)
        except Exception as error:
            yield from self._after_failed_write(connection, statement, items, feed_id, error)
        else:
            rows = result.current_rows
            if rows and not rows[0][0]:
                raise ConcurrencyError(self._taken_message(items, result.column_names, rows))
        if feed is not None and announcement is not None:
            yield from feed.finish(announcement, items)

    def _check_positions(self, positions: Sequence[Any], sequence_id: Any) -> None:
        if self.record.position_cql_type != "bigint":
            return
        for position in positions:
            if not -(2**63) <= position < 2**63:
                raise InvalidEventError(
                    f"item at position {position!r} of sequence {sequence_id} does not fit "
                    f"table {self.record.table_name}: positions are 64-bit (bigint)"
                )

    def _feed(self, connection: CassandraConnection, statements: RecordStatements) -> Feed:
        feed = self._feeds.get(id(statements))
        if feed is None or feed.statements is not statements:
            feed = Feed(statements, connection.settings, self._feed_step)
            self._feeds = {id(statements): feed}
        return feed

    def _feed_step(self, step: str) -> None:
        """Called between the steps of an append (see ``feed``); tests stop a writer here."""

    @staticmethod
    def _write_statement(bound: list[BoundStatement]) -> BoundStatement | BatchStatement:
        if len(bound) == 1:
            return bound[0]
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        for statement in bound:
            batch.add(statement)
        return batch

    def _bind(self, insert: Any, item: T, feed_id: int | None) -> BoundStatement:
        try:
            return insert.bind(  # type: ignore[no-any-return]
                (item[0], item[1], item[2], item[3], feed_id)
            )
        except _BIND_ERRORS as error:
            raise InvalidEventError(
                f"item at position {item[1]!r} of sequence {item[0]} does not fit table "
                f"{self.record.table_name}: {error}"
            ) from error

    def _after_failed_write(
        self,
        connection: CassandraConnection,
        statement: BoundStatement | BatchStatement,
        items: Sequence[T],
        feed_id: int | None,
        error: Exception,
    ) -> Steps[None]:
        settings = connection.settings
        if is_outcome_unknown(error):
            yield from settle(statement, items, feed_id, error, settings.endpoints,
                              settings.request_timeout, self.record.column_names)
            return
        if is_too_large(error):
            size = sum(len(item[2]) + len(item[3]) for item in items)
            raise InvalidEventError(
                f"append of {len(items)} item(s) (about {size} characters) to sequence "
                f"{items[0][0]} is larger than Cassandra at {settings.endpoints} takes in one "
                f"request ({describe(error)}); nothing was written. Append fewer or smaller "
                f"items per call (the server's limit is native_transport_max_message_size)"
            ) from error
        raise translate(
            error, f"append to sequence {items[0][0]} (nothing was written)", settings.endpoints
        ) from error

    def _taken_message(self, items: Sequence[T], columns: Any, rows: Any) -> str:
        """Which positions the "not applied" answer says are taken (best effort)."""
        column = self.record.column_names[1]
        taken: list[Any] = []
        if columns and column in columns:
            index = list(columns).index(column)
            taken = [row[index] for row in rows if len(row) > index and row[index] is not None]
        if not taken:
            taken = [item[1] for item in items]
        listed = ", ".join(str(position) for position in taken[:10])
        return (
            f"position {listed} of sequence {items[0][0]} already taken; nothing of this "
            f"append of {len(items)} item(s) was written"
        )

    # -- reading ------------------------------------------------------------------------
    def _get_items_steps(
        self,
        connection: CassandraConnection,
        sequence_id: Any,
        gt: Any,
        gte: Any,
        lt: Any,
        lte: Any,
        limit: int | None,
        is_ascending: bool,
    ) -> Steps[list[T]]:
        """A read of one sequence: one prepared range query, page by page."""
        lower_op, lower = _lower_bound(gt, gte)
        upper_op, upper = _upper_bound(lt, lte)
        params: list[Any] = [sequence_id]
        if lower_op:
            params.append(lower)
        if upper_op:
            params.append(upper)
        if limit is not None:
            params.append(limit)
        what = f"read of sequence {sequence_id}"
        try:
            statement = self.statements(connection).select_range(
                (lower_op, upper_op, bool(is_ascending), limit is not None)
            )
            bound = self._bind_read(statement, params, what)
            bound.fetch_size = connection.settings.fetch_size
            result = yield Execute(bound)
            rows = result.current_rows
            if result.paging_state is not None:
                rows = rows + (yield from rest_of(bound, result))
            new, cls = tuple.__new__, self.sequenced_item_class
            return [new(cls, (sequence_id, position, topic, data))
                    for position, topic, data in rows]
        except EventStoreError:
            raise
        except Exception as error:
            raise translate(error, what, connection.settings.endpoints) from error

    def _read_all_steps(
        self, connection: CassandraConnection, after: int, limit: int
    ) -> Steps[list[OrderedItem]]:
        """The feed (see ``feed``): items older than ``feed_delay``, in a fixed order."""
        if not connection.settings.feed:
            raise ConfigurationError(
                "this Cassandra store keeps no feed (CassandraSettings.feed=False), so it has "
                "no global order"
            )
        try:
            statements = self.statements(connection)
            return (yield from self._feed(connection, statements).read(
                after, limit, self.sequenced_item_class))
        except EventStoreError:
            raise
        except Exception as error:
            raise read_error(error, connection.settings.endpoints) from error

    def _page_steps(
        self, connection: CassandraConnection, page_size: int, cursor: PageCursor
    ) -> Steps[tuple[list[T], PageCursor | None]]:
        """One page of ``all_items`` from ``cursor``, and where the next one starts (None:
        done). Partitions in token order; a partition longer than a page is finished by
        position."""
        what = f"read of table {self.record.table_name}"
        new, cls = tuple.__new__, self.sequenced_item_class
        token, open_partition = cursor
        try:
            statements = self.statements(connection)
            if open_partition is not None:
                sequence_id, position = open_partition
                result = yield Execute(self._bind_read(
                    statements.rest_of_partition(), (sequence_id, position, page_size), what))
                page = [new(cls, (sequence_id, *row)) for row in result.current_rows]
            else:
                result = yield Execute(self._bind_read(
                    statements.first_rows_after_token(), (token, page_size), what))
                rows = result.current_rows
                page = [new(cls, row[1:]) for row in rows]
        except EventStoreError:
            raise
        except Exception as error:
            raise translate(error, what, connection.settings.endpoints) from error
        if open_partition is not None:
            if len(page) == page_size:
                return page, (token, (open_partition[0], page[-1][1]))
            return page, (token, None)
        if len(page) < page_size:
            return page, None
        return page, (rows[-1][0], (page[-1][0], page[-1][1]))

    def _bind_read(self, statement: Any, params: Sequence[Any], what: str) -> BoundStatement:
        try:
            return statement.bind(params)  # type: ignore[no-any-return]
        except _BIND_ERRORS as error:
            raise InvalidEventError(
                f"{what}: a bound does not fit the position column of "
                f"{self.record.table_name} ({self.record.position_cql_type}): {error}"
            ) from error


class CassandraActiveRecordStrategy(CassandraStrategyBase[T], AbstractActiveRecordStrategy[T]):
    """Writes and reads sequenced items in the Cassandra table of ``active_record_class``."""

    def _append(self, items: list[T]) -> None:
        connection = self.connection
        run(connection.session, self._append_steps(connection, items))

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
        connection = self.connection
        return run(connection.session, self._get_items_steps(
            connection, sequence_id, gt, gte, lt, lte, limit, is_ascending))

    def _read_all(self, after: int, limit: int) -> list[OrderedItem]:
        """The feed (see ``feed``): items older than ``feed_delay``, in a fixed order."""
        connection = self.connection
        return run(connection.session, self._read_all_steps(connection, after, limit))

    def _iter_pages(self, page_size: int) -> Iterator[list[T]]:
        connection = self.connection
        cursor: PageCursor | None = FIRST_PAGE
        while cursor is not None:
            page, cursor = run(connection.session, self._page_steps(connection, page_size, cursor))
            if page:
                yield page

    def close(self) -> None:
        """Shut down the connection of a strategy that made its own datastore."""
        self._drop_own_connection()


def default_record_class(sequenced_item_class: type[Any]) -> type[CassandraRecord]:
    """The library's record class for a sequenced item class (by its field names)."""
    fields = tuple(getattr(sequenced_item_class, "_fields", ()))[:4]
    if fields == StoredEvent._fields:
        return StoredEventRecord
    return IntegerSequencedItemRecord


def _lower_bound(gt: Any, gte: Any) -> tuple[LowerOp, Any]:
    """One lower bound from ``gt`` and ``gte`` (CQL allows one per direction): the tighter."""
    if gt is None and gte is None:
        return "", None
    if gte is None or (gt is not None and _tighter_or_equal(gt, gte, lower=True)):
        return ">", gt
    return ">=", gte


def _upper_bound(lt: Any, lte: Any) -> tuple[UpperOp, Any]:
    """One upper bound from ``lt`` and ``lte``: the tighter."""
    if lt is None and lte is None:
        return "", None
    if lte is None or (lt is not None and _tighter_or_equal(lt, lte, lower=False)):
        return "<", lt
    return "<=", lte


def _tighter_or_equal(strict: Any, inclusive: Any, lower: bool) -> bool:
    """Whether the strict bound excludes at least what the inclusive one does."""
    try:
        return bool(strict >= inclusive) if lower else bool(strict <= inclusive)
    except TypeError as error:
        raise InvalidEventError(
            f"position bounds {strict!r} and {inclusive!r} cannot be compared: {error}"
        ) from error


