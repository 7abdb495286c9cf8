"""Writes whose outcome the driver cannot tell, settled by reading back from the real server.

A CAS write timeout cannot be provoked on demand on one healthy node, so a thin wrapper
around the real session injects the driver's exception at the moment it would arrive: after
the write really was carried out by the server ("applied, but the answer was lost"), or
instead of sending it ("never got there"). Everything else, including the read-back, runs on
the real server. (``test_zz_faults.py`` provokes the real thing by pausing the server.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from cassandra import OperationTimedOut, WriteTimeout, WriteType
from cassandra.cluster import Session
from cassandra.policies import RetryPolicy
from cassandra.protocol import ErrorMessage
from cassandra.query import BatchStatement, SimpleStatement
from cassandra_server import TEST_KEYSPACE, test_settings
from eventstore_core.exceptions import ConcurrencyError, DatastoreError, OutcomeUnknownError
from eventstore_core.sequenceditem import SequencedItem

from eventstore_cassandra import CassandraActiveRecordStrategy, CassandraDatastore
from eventstore_cassandra import outcome as outcome_module
from eventstore_cassandra.errors import CAS_WRITE_UNKNOWN, WriteSafeRetryPolicy

TOPIC = "eventstore_core.events#DomainEvent"


def cas_timeout() -> WriteTimeout:
    return WriteTimeout("Operation timed out - received only 0 responses.", consistency=6,
                        required_responses=1, received_responses=0, write_type=WriteType.CAS)


def cas_write_unknown() -> ErrorMessage:
    return ErrorMessage(code=CAS_WRITE_UNKNOWN, message="CAS operation result is unknown",
                        info=None)


class FaultySession:
    """The real session, but the next write fails with ``fault`` (applied first or not)."""

    def __init__(self, real: Session) -> None:
        self.real = real
        self.fault: BaseException | None = None
        self.apply_first = False
        self.fail_reads = False

    def prepare(self, *args: Any, **kwargs: Any) -> Any:
        return self.real.prepare(*args, **kwargs)

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        is_write = isinstance(statement, BatchStatement) or not statement.is_idempotent
        if is_write and self.fault is not None:
            fault, self.fault = self.fault, None
            if self.apply_first:
                self.real.execute(statement, *args, **kwargs)
            raise fault
        if not is_write and self.fail_reads:
            raise OperationTimedOut({"127.0.0.1:9042": "Client request timeout"})
        return self.real.execute(statement, *args, **kwargs)


@pytest.fixture
def datastore() -> Iterator[CassandraDatastore]:
    made = CassandraDatastore(settings=test_settings())
    made.setup_connection(make_default=False)
    made.setup_tables()
    yield made
    made.drop_connection()


@pytest.fixture
def faulty(datastore: CassandraDatastore) -> FaultySession:
    return FaultySession(datastore.session)


@pytest.fixture
def strategy(faulty: FaultySession) -> CassandraActiveRecordStrategy[SequencedItem]:
    return CassandraActiveRecordStrategy(session=faulty, keyspace=TEST_KEYSPACE)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outcome_module, "READ_BACK_PAUSES", (0.01, 0.01))


def batch(sequence_id: Any, positions: range, writer: str = "us") -> list[SequencedItem]:
    return [SequencedItem(sequence_id, p, TOPIC, f'{{"by":"{writer}"}}') for p in positions]


@pytest.mark.parametrize("fault", [cas_timeout, cas_write_unknown, lambda: OperationTimedOut()])
@pytest.mark.parametrize("size", [1, 5])
def test_applied_but_the_answer_was_lost_counts_as_done(
    strategy: CassandraActiveRecordStrategy[SequencedItem], faulty: FaultySession,
    fault: Any, size: int,
) -> None:
    sequence_id = uuid4()
    faulty.fault, faulty.apply_first = fault(), True
    strategy.append(batch(sequence_id, range(size)))  # no exception: it is stored
    assert strategy.get_items(sequence_id) == batch(sequence_id, range(size))


@pytest.mark.parametrize("fault", [cas_timeout, cas_write_unknown])
def test_never_applied_is_a_datastore_error_that_says_retry_is_safe(
    strategy: CassandraActiveRecordStrategy[SequencedItem], faulty: FaultySession, fault: Any,
) -> None:
    sequence_id = uuid4()
    faulty.fault = fault()
    with pytest.raises(DatastoreError) as caught:
        strategy.append(batch(sequence_id, range(3)))
    assert not isinstance(caught.value, OutcomeUnknownError)
    assert "not applied" in str(caught.value) and str(sequence_id) in str(caught.value)
    assert strategy.get_items(sequence_id) == []
    strategy.append(batch(sequence_id, range(3)))  # the retry it promised is safe
    assert len(strategy.get_items(sequence_id)) == 3


def test_another_writer_got_there_is_a_concurrency_error(
    strategy: CassandraActiveRecordStrategy[SequencedItem], faulty: FaultySession,
) -> None:
    sequence_id = uuid4()
    theirs = batch(sequence_id, range(1, 2), writer="them")
    strategy.append(theirs)
    faulty.fault = cas_timeout()
    with pytest.raises(ConcurrencyError, match="position 1"):
        strategy.append(batch(sequence_id, range(3)))
    assert strategy.get_items(sequence_id) == theirs


def test_when_reading_back_fails_too_the_outcome_is_unknown(
    strategy: CassandraActiveRecordStrategy[SequencedItem], faulty: FaultySession,
) -> None:
    sequence_id = uuid4()
    faulty.fault, faulty.apply_first, faulty.fail_reads = cas_timeout(), True, True
    with pytest.raises(OutcomeUnknownError) as caught:
        strategy.append(batch(sequence_id, range(2)))
    message = str(caught.value)
    assert "unknown" in message and str(sequence_id) in message and "127.0.0.1:9042" in message
    faulty.fail_reads = False
    assert len(strategy.get_items(sequence_id)) == 2  # it had been applied


def test_the_driver_never_resends_a_write() -> None:
    policy = WriteSafeRetryPolicy()
    write = SimpleStatement("INSERT ... IF NOT EXISTS", is_idempotent=False)
    read = SimpleStatement("SELECT ...", is_idempotent=True)
    assert policy.on_write_timeout(write, 6, WriteType.CAS, 1, 0, 0)[0] == RetryPolicy.RETHROW
    assert policy.on_request_error(write, 6, ConnectionError(), 0)[0] == RetryPolicy.RETHROW
    assert policy.on_request_error(read, 6, ConnectionError(), 0)[0] == RetryPolicy.RETRY_NEXT_HOST
    assert policy.on_request_error(read, 6, ConnectionError(), 2)[0] == RetryPolicy.RETHROW
