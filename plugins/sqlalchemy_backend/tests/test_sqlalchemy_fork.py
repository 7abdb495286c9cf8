"""``fork()``: a child makes connections of its own; SQLite's fork handler only with SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any
from uuid import uuid4

import pytest
from eventstore_core.sequenceditem import SequencedItem
from sqlalchemy_databases import all_uris

from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy

TOPIC = "eventstore_core.events#DomainEvent"


@pytest.mark.parametrize("name", ["sqlite_file", "postgresql", "mariadb"])
def test_a_forked_child_writes_on_connections_of_its_own(name: str) -> None:
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=all_uris()[name]
    )
    sequence_id = uuid4()
    strategy.append(SequencedItem(sequence_id, 0, TOPIC, "{}"))  # a connection in the pool
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            strategy.append(SequencedItem(sequence_id, 1, TOPIC, "{}"))
            code = 0 if len(strategy.get_items(sequence_id)) == 2 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    strategy.append(SequencedItem(sequence_id, 2, TOPIC, "{}"))  # the parent's still work
    assert [i.position for i in strategy.get_items(sequence_id)] == [0, 1, 2]
    strategy.close()


def test_no_fork_handler_without_sqlite() -> None:
    program = (
        "import sys\n"
        "from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy\n"
        "from eventstore_sqlalchemy.databases.sqlite import FORK_GUARD\n"
        "s = SQLAlchemyActiveRecordStrategy(uri=sys.argv[1])\n"
        "s.get_items(__import__('uuid').uuid4())\n"
        "before = FORK_GUARD._installed\n"
        "SQLAlchemyActiveRecordStrategy(uri=sys.argv[2]).get_items(__import__('uuid').uuid4())\n"
        "print(before, FORK_GUARD._installed)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, all_uris()["postgresql"], all_uris()["sqlite_file"]],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
