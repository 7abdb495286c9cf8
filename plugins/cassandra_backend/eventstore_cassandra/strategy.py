"""``CassandraActiveRecordStrategy``: sequenced items in a Cassandra table.

Writing. One item is ``INSERT ... IF NOT EXISTS``; a list for one sequence within one of its
partitions (see ``layout``) is one conditional batch there, which Cassandra applies all or
nothing; a list that crosses a partition boundary is written in parts and made visible by one
commit LWT (see ``crossing``). Either way a taken position is a ``ConcurrencyError`` and
nothing of the call is written. A sequence's partition other than 0 is noted in partition
0's static set (a plain write, with the feed entry) before its first row is written. A list
that spans several sequences cannot be atomic in Cassandra (a conditional batch is limited
to one partition), so it is refused with ``InvalidEventError`` before anything is written; the
capabilities say ``transactions_across_sequences=False``. A write whose outcome the driver
cannot tell is settled by proposing it again (see ``outcome``). With the feed on (the
default), an append first writes its feed entry and its rows carry the entry's nonce (see
``feed``); ``read_all`` reads the feed.

Reading. ``_get_items`` reads the sequence's partitions in order, partition 0 first when
the bounds include it (its rows come with its static list of the sequence's other
partitions, so a sequence within one partition is one request), each one prepared range
query: bounds, clustering order and ``LIMIT`` are applied by the server, long results are
paged by the driver, and rows of a crossing append that is not committed are left out.
``all_items`` walks the sequences in the token order of their partition 0, each in position
order, one bounded read per page (a table made before the split: its partitions in token
order).

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
from .crossing import WOUND_TRIES, append_across, blockers, visible, void_and_clear
from .datastore import CassandraConnection, CassandraDatastore
from .errors import describe, is_outcome_unknown, is_too_large, translate
from .feed import Feed, check_size, read_error
from .layout import read_layout
from .outcome import settle
from .records import (
    CassandraRecord,
    IntegerSequencedItemRecord,
    StoredEventRecord,
    record_description,
)
from .settings import CassandraSettings
from .statements import LowerOp, RecordStatements, UpperOp
from .steps import HOLD, Execute, ExecuteAll, Steps, rest_of, rows_of, run

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]

#: The smallest Murmur3 token; no partition has it, so "token > MIN_TOKEN" is every partition.
MIN_TOKEN = -(2**63)
_BIND_ERRORS = (TypeError, ValueError, OverflowError, struct.error, AttributeError)

#: Where ``all_items`` continues: (the token after which partitions are read, the sequence
#: and position after which a partition longer than a page continues, or None).
PageCursor = tuple[int, "tuple[Any, Any] | None"]
FIRST_PAGE: PageCursor = (MIN_TOKEN, None)
#: (sequence, partition) pairs a strategy remembers having noted in partition 0's set.
KNOWN_PARTITIONS = 100_000
#: Partition keys read per request when ``all_items`` looks for the next sequence.
PARTITION_KEYS_PER_PAGE = 100


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
        self._noted: set[tuple[Any, int]] = set()
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
            settings = connection.settings
            layout = read_layout(connection.session, settings.keyspace, self.record,
                                 settings.endpoints, max(settings.request_timeout, 10.0))
            statements = RecordStatements(
                connection.session, settings.keyspace, self.record, layout
            )
            self._statements = statements
            self._noted = set()
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
        positions = [item[1] for item in items]
        self._check_positions(positions, sequence_id)  # a bad value: nothing written
        layout = statements.layout
        partitions = sorted({layout.partition(position) for position in positions})
        notes = self._partition_notes(statements, sequence_id, partitions)
        announcement = None
        if feed is not None:
            check_size(items)
            announcement = yield from feed.announce(
                sequence_id, min(positions), max(positions), notes)
        elif notes:
            try:
                yield ExecuteAll(notes)
            except Exception as error:
                raise translate(error, f"noting the partitions of sequence {sequence_id} "
                                f"(nothing of the append was written)",
                                settings.endpoints) from error
        self._noted.update((sequence_id, partition) for partition in partitions)
        feed_id = announcement.nonce if announcement is not None else None
        crossing = len(partitions) > 1
        if crossing:  # (bound anyway: a value that does not fit is refused here)
            for item in items:
                self._bind(statements, insert, item, feed_id)
        else:
            key = (sequence_id, partitions[0]) if statements.split else (sequence_id,)
            statement = self._write_statement(
                [self._bind(statements, insert, item, feed_id, key) for item in items])
        self._feed_step("sending")
        yield HOLD  # from here on, a cancelled task waits until the outcome is settled
        if crossing:
            yield from append_across(statements, items, feed_id, settings.endpoints,
                                     settings.request_timeout, self.record.column_names,
                                     self._feed_step)
        else:
            yield from self._write_one_partition(connection, statements, statement, items,
                                                 feed_id)
        if feed is not None and announcement is not None:
            yield from feed.finish(announcement, items,
                                   [min(positions)] if crossing else positions)

    def _write_one_partition(
        self,
        connection: CassandraConnection,
        statements: RecordStatements,
        statement: BoundStatement | BatchStatement,
        items: list[T],
        feed_id: int | None,
    ) -> Steps[None]:
        """The conditional write of a list within one partition; in a split table, rows of
        unfinished crossing appends in the way are voided first (see ``crossing``)."""
        for attempt in range(WOUND_TRIES + 1):
            try:
                result = yield Execute(statement)
            except Exception as error:
                yield from self._after_failed_write(connection, statement, items, feed_id,
                                                    error)
                return
            rows = result.current_rows
            if not rows or rows[0][0]:
                return
            if statements.split and attempt < WOUND_TRIES:
                in_the_way = yield from blockers(statements, items[0][0], result.column_names,
                                                 rows, self.record.column_names[1])
                if in_the_way and (
                        yield from void_and_clear(statements, items[0][0], in_the_way)):
                    continue
            raise ConcurrencyError(self._taken_message(items, result.column_names, rows))

    def _partition_notes(self, statements: RecordStatements, sequence_id: Any,
                         partitions: Sequence[int]) -> list[BoundStatement]:
        """The writes noting partitions of a sequence this process has not noted yet."""
        if not statements.split:
            return []
        noted = self._noted
        if len(noted) > KNOWN_PARTITIONS:
            noted.clear()
        add = statements.add_partition()
        return [add.bind(({partition}, sequence_id)) for partition in partitions
                if partition != 0 and (sequence_id, partition) not in noted]

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
        """Called between the steps of an append (see ``feed`` and ``crossing``); tests stop
        a writer here."""

    @staticmethod
    def _write_statement(bound: list[BoundStatement]) -> BoundStatement | BatchStatement:
        if len(bound) == 1:
            return bound[0]
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        for statement in bound:
            batch.add(statement)
        return batch

    def _bind(self, statements: RecordStatements, insert: Any, item: T,
              feed_id: int | None, key: tuple[Any, ...] | None = None) -> BoundStatement:
        try:
            if key is None:
                key = statements.key(item[0], item[1])
            return insert.bind(  # type: ignore[no-any-return]
                (*key, item[1], item[2], item[3], feed_id)
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
        """A read of one sequence: one prepared range query per partition, page by page."""
        lower_op, lower = _lower_bound(gt, gte)
        upper_op, upper = _upper_bound(lt, lte)
        what = f"read of sequence {sequence_id}"
        try:
            statements = self.statements(connection)
            if statements.split:
                rows = yield from self._read_partitions(
                    connection, statements, sequence_id, (lower_op, lower),
                    (upper_op, upper), limit, bool(is_ascending), what)
            else:
                rows = yield from self._read_partition(
                    connection, statements, sequence_id, None, (lower_op, lower),
                    (upper_op, upper), limit, bool(is_ascending), what)
            new, cls = tuple.__new__, self.sequenced_item_class
            if statements.split:  # rows with their append id and partition 0's set
                return [new(cls, (sequence_id, position, topic, data))
                        for position, topic, data, _, _ in rows]
            return [new(cls, (sequence_id, position, topic, data))
                    for position, topic, data in rows]
        except EventStoreError:
            raise
        except Exception as error:
            raise translate(error, what, connection.settings.endpoints) from error

    def _range(
        self,
        connection: CassandraConnection,
        statements: RecordStatements,
        sequence_id: Any,
        partition: int | None,
        lower: tuple[LowerOp, Any],
        upper: tuple[UpperOp, Any],
        limit: int | None,
        ascending: bool,
        what: str,
    ) -> BoundStatement:
        """The range read of one partition, bound."""
        params: list[Any] = [sequence_id] if partition is None else [sequence_id, partition]
        if lower[0]:
            params.append(lower[1])
        if upper[0]:
            params.append(upper[1])
        if limit is not None:
            params.append(limit)
        statement = statements.select_range((lower[0], upper[0], ascending, limit is not None))
        bound = self._bind_read(statement, params, what)
        bound.fetch_size = connection.settings.fetch_size
        return bound

    def _read_partition(
        self,
        connection: CassandraConnection,
        statements: RecordStatements,
        sequence_id: Any,
        partition: int | None,
        lower: tuple[LowerOp, Any],
        upper: tuple[UpperOp, Any],
        limit: int | None,
        ascending: bool,
        what: str,
        first: Any = None,
    ) -> Steps[list[Any]]:
        """The visible rows of one partition within bounds (``first``: the answer to its
        first page, if it was already asked); in a split table with their append id."""
        out: list[Any] = []
        while True:
            bound = self._range(connection, statements, sequence_id, partition, lower, upper,
                                limit, ascending, what)
            if first is None:
                result = yield Execute(bound)
            else:
                result, first = first, None
            rows = result.current_rows
            if result.paging_state is not None:
                rows = rows + (yield from rest_of(bound, result))
            if not statements.split:
                return list(rows)
            if rows and rows[0][0] is None:
                # A partition 0 without rows, only its static set: one row of nulls.
                return out
            shown = yield from visible(statements, sequence_id, rows)
            if not out and len(shown) == len(rows) and isinstance(shown, list):
                return shown  # (the common case: nothing to leave out, nothing to join)
            out += shown
            if limit is None or len(rows) < limit or len(shown) == len(rows):
                return out
            # Rows of unfinished appends took places within the limit: read on past them.
            limit -= len(shown)
            if ascending:
                lower = (">", rows[-1][0])
            else:
                upper = ("<", rows[-1][0])

    def _read_partitions(
        self,
        connection: CassandraConnection,
        statements: RecordStatements,
        sequence_id: Any,
        lower: tuple[LowerOp, Any],
        upper: tuple[UpperOp, Any],
        limit: int | None,
        ascending: bool,
        what: str,
    ) -> Steps[list[Any]]:
        """The visible rows of a split sequence: its partitions in order.

        Partition 0 lists the sequence's other partitions (a static set, returned with each
        of its rows), so a read that includes partition 0 reads it first and needs a second
        request only if the sequence has other partitions within the bounds, or if partition
        0 had no row within them (then the set is read by itself). A read whose bounds lie
        in one partition reads only that one; a read whose bounds exclude partition 0 asks
        for the set together with the partition it starts in."""
        layout = statements.layout
        low = layout.partition(lower[1]) if lower[0] else None
        high = layout.partition(upper[1]) if upper[0] else None
        if low is not None and high is not None and low >= high:
            if low > high:
                return []
            return (yield from self._read_partition(
                connection, statements, sequence_id, low, lower, upper, limit, ascending, what))
        within = (low is None or low <= 0) and (high is None or high >= 0)
        later_bound = statements.later_partitions().bind((sequence_id,))
        first: Any = None
        start: int | None
        if within:
            start = 0
            first = yield Execute(self._range(connection, statements, sequence_id, 0, lower,
                                              upper, limit, ascending, what))
            rows = first.current_rows
            if rows:
                later = rows[0][4]
            else:
                found = (yield Execute(later_bound)).current_rows
                later = found[0][0] if found else None
        else:
            start = low if ascending and low is not None else high if not ascending else None
            if start is None:  # descending with only a lower bound above partition 0
                found = (yield Execute(later_bound)).current_rows
                later = found[0][0] if found else None
            else:
                found_set, first = yield ExecuteAll([
                    later_bound, self._range(connection, statements, sequence_id, start,
                                             lower, upper, limit, ascending, what)])
                rows = found_set.current_rows
                later = rows[0][0] if rows else None
        partitions = {0} | set(later or ())
        partitions = {p for p in partitions
                      if (low is None or p >= low) and (high is None or p <= high)}
        if start is not None and start not in partitions:
            first = None
        out: list[Any] = []
        for partition in sorted(partitions, reverse=not ascending):
            if limit is not None and len(out) >= limit:
                break
            left = None if limit is None else limit - len(out)
            answer = first if partition == start and left == limit else None
            out += yield from self._read_partition(
                connection, statements, sequence_id, partition, lower, upper, left,
                ascending, what, answer)
        return out

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
            if statements.split:
                return (yield from self._split_page(connection, statements, page_size, cursor))
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

    def _split_page(
        self, connection: CassandraConnection, statements: RecordStatements, page_size: int,
        cursor: PageCursor,
    ) -> Steps[tuple[list[T], PageCursor | None]]:
        """A page of ``all_items`` in a split table: the sequences in the token order of
        their partition 0 (every sequence has one: its rows or its set of other partitions),
        each read in position order (a page has items of one)."""
        what = f"read of table {self.record.table_name}"
        token, open_sequence = cursor
        if open_sequence is None:
            sequence_id = None
            while sequence_id is None:
                keys = yield from rows_of(self._bind_read(
                    statements.partitions_after_token(), (token, PARTITION_KEYS_PER_PAGE),
                    what))
                if not keys:
                    return [], None
                token = keys[-1][0]
                for key_token, key_sequence, partition in keys:
                    if partition == 0:
                        token, sequence_id = key_token, key_sequence
                        break
            lower: tuple[LowerOp, Any] = ("", None)
        else:
            sequence_id, position = open_sequence
            lower = (">", position)
        found = yield from self._read_partitions(
            connection, statements, sequence_id, lower, ("", None), page_size, True, what)
        new, cls = tuple.__new__, self.sequenced_item_class
        page = [new(cls, (sequence_id, position, topic, data))
                for position, topic, data, _, _ in found]
        if len(page) == page_size:
            return page, (token, (sequence_id, page[-1][1]))
        return page, (token, None)

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


