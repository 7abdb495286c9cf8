"""Writes whose outcome the driver cannot tell, settled by proposing them again.

A CAS write timeout cannot be provoked on demand on one healthy node, so a thin wrapper
around the real session injects the driver's exception at the moment it would arrive: after
the write really was carried out by the server ("applied, but the answer was lost"), or
instead of sending it ("never got there"). Everything else, including the second proposal,
runs on the real server. The last test provokes real client-side timeouts (a request timeout
of a few milliseconds); ``test_zz_faults.py`` pauses the server.
"""

from __future__ import annotations

import time
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
    """The real session, but the next conditional write fails with ``fault`` (applied first
    or not), and the ``fail_again`` ones after it time out without being sent."""

    def __init__(self, real: Session) -> None:
        self.real = real
        self.fault: BaseException | None = None
        self.apply_first = False
        self.fail_again = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        is_write = isinstance(statement, BatchStatement) or not statement.is_idempotent
        if is_write and self.fault is not None:
            fault, self.fault = self.fault, None
            if self.apply_first:
                self.real.execute(statement, *args, **kwargs)
            raise fault
        if is_write and self.fail_again:
            self.fail_again -= 1
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
    monkeypatch.setattr(outcome_module, "PROPOSE_AGAIN_PAUSES", (0.01, 0.01))


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


@pytest.mark.parametrize("fault", [cas_timeout, cas_write_unknown, lambda: OperationTimedOut()])
def test_never_sent_is_stored_once_by_proposing_it_again(
    strategy: CassandraActiveRecordStrategy[SequencedItem], faulty: FaultySession, fault: Any,
) -> None:
    # Before: a SERIAL read found nothing and the append was reported "not applied, retrying
    # is safe", although a request the client gave up on may still be applied later.
    sequence_id = uuid4()
    faulty.fault = fault()
    strategy.append(batch(sequence_id, range(3)))
    assert strategy.get_items(sequence_id) == batch(sequence_id, range(3))


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


def test_when_proposing_again_fails_too_the_outcome_is_unknown(
    strategy: CassandraActiveRecordStrategy[SequencedItem], faulty: FaultySession,
) -> None:
    sequence_id = uuid4()
    faulty.fault, faulty.apply_first, faulty.fail_again = cas_timeout(), True, 3
    with pytest.raises(OutcomeUnknownError) as caught:
        strategy.append(batch(sequence_id, range(2)))
    message = str(caught.value)
    assert "unknown" in message and str(sequence_id) in message and "127.0.0.1:9042" in message
    assert len(strategy.get_items(sequence_id)) == 2  # it had been applied


@pytest.mark.parametrize("feed", [False, True])
def test_client_timeouts_of_milliseconds_never_give_a_wrong_answer(feed: bool) -> None:
    """Real client-side timeouts: every answer the store gives must be true afterwards.

    Before the fix, "not applied, so retrying it is safe" came back and the event appeared
    a moment later (6 of 6 such reports were wrong with 2-10 ms request timeouts).
    """
    hasty = CassandraActiveRecordStrategy(
        settings=test_settings(request_timeout=0.003, feed=feed)
    )
    patient = CassandraActiveRecordStrategy(settings=test_settings())
    answers: dict[Any, str] = {}
    try:
        for _ in range(40):
            sequence_id = uuid4()
            try:
                hasty.append(batch(sequence_id, range(3)))
                answers[sequence_id] = "stored"
            except OutcomeUnknownError:
                answers[sequence_id] = "unknown"
            except DatastoreError as error:
                assert "nothing" in str(error) and "written" in str(error), error
                answers[sequence_id] = "not stored"
        time.sleep(2.0)  # anything still in flight lands or is dropped
        for sequence_id, answer in answers.items():
            stored = patient.get_items(sequence_id)
            if answer == "stored":
                assert stored == batch(sequence_id, range(3))
            elif answer == "not stored":
                assert stored == [], f"reported not stored, but {len(stored)} items are there"
            else:
                assert stored in ([], batch(sequence_id, range(3)))
    finally:
        hasty.close()
        patient.close()
    assert "stored" in answers.values()  # the settling proposal does get through


def test_the_driver_never_resends_a_write() -> None:
    policy = WriteSafeRetryPolicy()
    write = SimpleStatement("INSERT ... IF NOT EXISTS", is_idempotent=False)
    read = SimpleStatement("SELECT ...", is_idempotent=True)
    assert policy.on_write_timeout(write, 6, WriteType.CAS, 1, 0, 0)[0] == RetryPolicy.RETHROW
    assert policy.on_request_error(write, 6, ConnectionError(), 0)[0] == RetryPolicy.RETHROW
    assert policy.on_request_error(read, 6, ConnectionError(), 0)[0] == RetryPolicy.RETRY_NEXT_HOST
    assert policy.on_request_error(read, 6, ConnectionError(), 2)[0] == RetryPolicy.RETHROW
