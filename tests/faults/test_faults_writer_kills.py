"""Case 1: writer processes SIGKILLed mid-append, on SQLite, PostgreSQL and MariaDB.

Seven processes append three-item lists to six shared sequences (so they also compete for
positions); one after another, four of them are killed at a random moment while an append of
theirs is in flight, and the other three go on. Afterwards every acknowledged list must be
stored whole, no list in part, no position twice, and nothing the store reported as not
written may be there.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy
from writer_pool import WriterPool

pytestmark = pytest.mark.faults

#: Writers that are not killed.
WRITERS = 3
KILLS = 4
#: Attempts made after the last kill before the writers are stopped.
ATTEMPTS_AFTER = 20


def run_with_writer_kills(case: str, uri: str, folder: Path, seed: int) -> None:
    rng = random.Random(seed)
    SQLAlchemyActiveRecordStrategy(uri=uri).close()  # the table, before the writers race
    pool = WriterPool(uri, folder)
    try:
        names = pool.start(WRITERS + KILLS)
        for name in names:
            pool.wait_until_writing(name)
        for victim in rng.sample(names, KILLS):
            pool.wait_until_writing(victim, attempts=5)
            pool.kill_mid_append(victim, rng)
        for name in pool.running:
            done = sum(line.startswith("try ") for line in pool.lines(name))
            pool.wait_until_writing(name, attempts=done + ATTEMPTS_AFTER)
    finally:
        pool.stop()
    reader: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(uri=uri)
    try:
        report = pool.check(f"writer SIGKILL, {case} (seed {seed})", reader)
    finally:
        reader.close()
    assert report.attempted > 0 and report.acknowledged > 0, report.line()
    assert report.killed_in_flight > 0, f"no kill landed mid-append: {report.line()}"
    report.check()


def test_sqlite_file(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    run_with_writer_kills("sqlite file", uri, tmp_path, seed=random.randrange(10**6))


@pytest.mark.parametrize("private_server", ["postgresql", "mariadb"], indirect=True)
def test_server(private_server: Any, tmp_path: Path) -> None:
    run_with_writer_kills(private_server.name, private_server.uri, tmp_path,
                          seed=random.randrange(10**6))
