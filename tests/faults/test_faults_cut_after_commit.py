"""Case 4: the connection cut right after the server committed, before the client heard so.

A proxy between the store and the private server forwards the append's COMMIT (for one item
on PostgreSQL, which commits the INSERT by itself, that INSERT), waits until the server has
answered, drops the answer and closes the connection. The data is stored; so the store must
say ``OutcomeUnknownError`` (or, having settled it, that it is stored), never that nothing was
written, whether as ``DatastoreError`` or as a ``ConcurrencyError`` blaming another writer.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any
from uuid import uuid4

import pytest
from cutting_proxy import CuttingProxy
from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy
from fault_writer import attempt_items
from outcomes import Attempt, tally
from private_servers import PrivateServer

from eventstore_core.exceptions import ConcurrencyError, DatastoreError, OutcomeUnknownError

pytestmark = pytest.mark.faults

CUTS = 3


def marker(server: PrivateServer, size: int) -> bytes:
    """What the client sends that makes the append durable."""
    return b"INSERT" if server.name == "postgresql" and size == 1 else b"COMMIT"


@pytest.mark.parametrize("size", [3, 1], ids=["list", "one item"])
@pytest.mark.parametrize("private_server", ["postgresql", "mariadb"], indirect=True)
def test_cut_after_commit_is_never_reported_as_not_written(
    private_server: PrivateServer, size: int
) -> None:
    proxy = CuttingProxy(private_server.port)
    store: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=private_server.uri_via(proxy.port)
    )
    reader: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=private_server.uri
    )
    attempts: list[Attempt] = []
    reported: Counter[str] = Counter()
    try:
        store.append(attempt_items(uuid4(), 0, "warm-up")[:size])
        for number in range(CUTS):
            items = attempt_items(uuid4(), random.randrange(5), f"cut:{number}")[:size]
            attempt = Attempt(f"cut:{number}", items, outcome="ok")
            cuts = proxy.cuts
            proxy.arm(marker(private_server, size))
            answer = "returned"
            try:
                store.append(items)
            except OutcomeUnknownError as error:
                attempt.outcome, attempt.message = "unknown", str(error)
                answer = type(error).__name__
            except (ConcurrencyError, DatastoreError) as error:
                attempt.outcome, attempt.message = "not_written", f"{type(error).__name__}: {error}"
                answer = type(error).__name__
            except Exception as error:
                attempt.outcome, attempt.message, answer = "other", repr(error), "other"
            assert proxy.cuts == cuts + 1 and not proxy.armed, "the proxy did not cut"
            reported[answer] += 1
            attempts.append(attempt)
        report = tally(
            f"cut after COMMIT, {private_server.name}, {'list' if size > 1 else 'one item'}",
            attempts, lambda attempt: reader.get_items(attempt.items[0].sequence_id),
        )
    finally:
        store.close()
        reader.close()
        proxy.close()
    report.extra["reported"] = dict(reported)
    report.check()
    assert all(a.outcome in ("ok", "unknown") for a in attempts), report.notes
