"""Case 5: Cassandra with request timeouts of a few milliseconds: every outcome reported is true.

A writer thread appends three-item lists, each to a new sequence, through a strategy whose
request timeout is 2 or 5 ms, so most requests time out on the client while the server may still
carry them out. Afterwards (once anything in flight has landed) each list is read back with
normal timeouts: acknowledged means stored whole, a ``DatastoreError`` that is not
``OutcomeUnknownError`` means nothing stored, unknown means whole or nothing.

The single node of the shared server is used (never stopped here), in a keyspace of this
suite's own. The writer, its attempts and ``check_stored`` are those of the Cassandra plugin's
own fault tests (``plugins/cassandra_backend/tests/test_zz_faults.py``).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from availability import unavailable
from outcomes import Attempt, tally

CASSANDRA_TESTS = Path(__file__).resolve().parents[2] / "plugins" / "cassandra_backend" / "tests"
if str(CASSANDRA_TESTS) not in sys.path:
    sys.path.append(str(CASSANDRA_TESTS))

from cassandra_server import TEST_KEYSPACE, server_problem, test_settings  # noqa: E402
from eventstore_cassandra import CassandraActiveRecordStrategy  # noqa: E402
from test_zz_faults import Writer, check_stored, wait_for  # noqa: E402

KEYSPACE = f"{TEST_KEYSPACE}_timeouts"
ATTEMPTS = 50
#: Seconds for anything still in flight to land (or be dropped) before the lists are read.
SETTLE_SECONDS = 2.0

OUTCOMES = {"ok": "ok", "failed": "not_written", "unknown": "unknown"}


@pytest.fixture(scope="module", autouse=True)
def cassandra_answers() -> None:
    problem = server_problem()
    if problem is not None:
        unavailable(f"no Cassandra server: {problem}")


pytestmark = pytest.mark.faults


@pytest.mark.parametrize("feed", [False, True], ids=["no feed", "feed"])
@pytest.mark.parametrize("request_timeout", [0.002, 0.005], ids=["2 ms", "5 ms"])
def test_tiny_request_timeouts_never_give_a_wrong_outcome(
    request_timeout: float, feed: bool
) -> None:
    patient = CassandraActiveRecordStrategy(settings=test_settings(keyspace=KEYSPACE, feed=feed))
    hasty = CassandraActiveRecordStrategy(
        settings=test_settings(keyspace=KEYSPACE, feed=feed, request_timeout=request_timeout)
    )
    writer = Writer(hasty)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(writer.attempts) >= ATTEMPTS, 120, f"{ATTEMPTS} appends")
    finally:
        writer.stop.set()
        thread.join(timeout=60)
    try:
        assert not thread.is_alive(), "an append with a tiny request timeout did not end"
        time.sleep(SETTLE_SECONDS)
        attempts = [
            Attempt(str(a.sequence_id), a.items, OUTCOMES.get(a.outcome, "other"), a.message)
            for a in writer.attempts
        ]
        by_key = {str(a.sequence_id): a.sequence_id for a in writer.attempts}
        report = tally(
            f"Cassandra {request_timeout * 1000:.0f} ms request timeout, "
            f"{'feed' if feed else 'no feed'}",
            attempts, lambda attempt: patient.get_items(by_key[attempt.key]),
        )
        report.extra["slowest_append_s"] = round(max(a.seconds for a in writer.attempts), 2)
        report.check()
        check_stored(patient, writer.attempts)  # the plugin's own check, the same verdict
    finally:
        hasty.close()
        patient.close()
