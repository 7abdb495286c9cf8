"""cassandra-driver with no library, running the statements this project's backend prepares.

The same CQL text, the same execution profile (LOCAL_QUORUM, LOCAL_SERIAL for the Paxos
phase, token-aware routing, tuple rows) and TCP_NODELAY: one item is ``INSERT ... IF NOT
EXISTS``; a list is one unlogged conditional batch in the sequence's partition; reads are one
prepared range query each, in clustering order, with the backend's page size
(``CassandraSettings.fetch_size``), taken page by page as the backend takes them. Rows are
made before timing.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from . import servers
from .raw import RawSide, row_data
from .workload import TOPIC, EventSpec

KEYSPACE = "raw_bench"
TABLE = f'"{KEYSPACE}"."integer_sequenced_items"'
COLUMNS = '"sequence_id", "position", "topic", "data"'
#: The backend's default page size (``CassandraSettings.fetch_size``), which is the driver's.
FETCH_SIZE = 5000


class CassandraSide(RawSide):
    backend = "cassandra"

    def __init__(self) -> None:
        self.cluster: Any = None
        self.session: Any = None

    def _connect(self) -> None:
        from cassandra import ConsistencyLevel
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
        from cassandra.query import tuple_factory

        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()),
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
            request_timeout=12.0,
            row_factory=tuple_factory,
        )
        self.cluster = Cluster(
            servers.cassandra_hosts(), port=servers.cassandra_port(),
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            # As the backend does: without it Nagle's algorithm holds every request larger
            # than a segment (a batch of ~30 items) until the server's delayed ACK, 40 ms.
            sockopts=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        session = self.cluster.connect()
        session.execute(
            f'CREATE KEYSPACE IF NOT EXISTS "{KEYSPACE}" WITH replication = '
            "{'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        session.execute(
            f'CREATE TABLE IF NOT EXISTS {TABLE} ("sequence_id" uuid, "position" bigint, '
            '"topic" text, "data" text, PRIMARY KEY (("sequence_id"), "position")) '
            'WITH CLUSTERING ORDER BY ("position" ASC)'
        )
        self.insert = session.prepare(
            f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?) IF NOT EXISTS"
        )
        self.select_all = session.prepare(
            f'SELECT "position", "topic", "data" FROM {TABLE} WHERE "sequence_id" = ? '
            'ORDER BY "position" ASC'
        )
        self.select_last = session.prepare(
            f'SELECT "position", "topic", "data" FROM {TABLE} WHERE "sequence_id" = ? '
            'ORDER BY "position" DESC LIMIT ?'
        )
        self.session = session

    def reset(self) -> None:
        if self.session is None:
            self._connect()
        self.session.execute(f"TRUNCATE {TABLE}", timeout=120)

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.shutdown()
            self.cluster = self.session = None

    def position_of(self, event: Any) -> int:
        return int(event[0])

    def make_events(self, specs: Sequence[EventSpec]) -> list[Any]:
        return [(s.sequence_id, s.position, TOPIC, row_data(s)) for s in specs]

    def append(self, events: list[Any]) -> None:
        from cassandra.query import BatchStatement, BatchType

        if len(events) == 1:
            result = self.session.execute(self.insert.bind(events[0]))
        else:
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            for row in events:
                batch.add(self.insert.bind(row))
            result = self.session.execute(batch)
        rows = result.current_rows
        if rows and not rows[0][0]:
            raise RuntimeError("position taken")

    def read_sequence(self, sequence_id: UUID) -> list[Any]:
        return self._read(self.select_all.bind((sequence_id,)))

    def read_last(self, sequence_id: UUID, count: int) -> list[Any]:
        return self._read(self.select_last.bind((sequence_id, count)))

    def _read(self, bound: Any) -> list[Any]:
        """Every row, page by page, as the backend reads (not row by row through the
        ``ResultSet``)."""
        bound.fetch_size = FETCH_SIZE
        result = self.session.execute(bound)
        rows = list(result.current_rows)
        while result.has_more_pages:
            result.fetch_next_page()
            rows += result.current_rows
        return rows
