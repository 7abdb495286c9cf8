"""Case 2: the private PostgreSQL (and MariaDB) SIGKILLed mid-append, and started again.

Three writer processes append three-item lists to shared sequences while the whole server
(every process of it, as a power cut would) is killed three times at a random moment while
appends are in flight, and restarted (it recovers from its log). After each restart the
writers must get appends through again. Afterwards: every acknowledged list is stored whole;
a list reported as not written (``DatastoreError``, ``ConcurrencyError``) is not there; one
reported unknown (``OutcomeUnknownError``) is there whole or not at all; nothing is partial.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy
from private_servers import PrivateServer
from writer_pool import WriterPool

pytestmark = pytest.mark.faults

WRITERS = 3
KILLS = 3
#: Appends acknowledged between two kills (and after the last restart).
ACKNOWLEDGED_BETWEEN = 30
#: Seconds the server stays down.
DOWN_SECONDS = 0.5


@pytest.mark.parametrize("private_server", ["postgresql", "mariadb"], indirect=True)
def test_server_killed_and_restarted(private_server: PrivateServer, tmp_path: Path) -> None:
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    SQLAlchemyActiveRecordStrategy(uri=private_server.uri).close()  # the table, once
    pool = WriterPool(private_server.uri, tmp_path)
    try:
        for name in pool.start(WRITERS):
            pool.wait_until_writing(name)
        for _ in range(KILLS):
            pool.wait_for("ok", ACKNOWLEDGED_BETWEEN)
            time.sleep(rng.uniform(0.0, 0.3))
            deadline = time.monotonic() + 5
            while not pool.any_in_flight() and time.monotonic() < deadline:
                time.sleep(0.001)
            private_server.kill()
            time.sleep(DOWN_SECONDS)
            private_server.start()
        pool.wait_for("ok", ACKNOWLEDGED_BETWEEN)
    finally:
        pool.stop()
    reader: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=private_server.uri
    )
    try:
        report = pool.check(f"server SIGKILL, {private_server.name} (seed {seed})", reader)
    finally:
        reader.close()
    report.extra["server_kills"] = KILLS
    report.extra["datastore_errors"] = pool.count("failed")
    report.extra["conflicts"] = pool.count("conflict")
    assert report.acknowledged > 0 and report.extra["datastore_errors"] > 0, report.line()
    report.check()
