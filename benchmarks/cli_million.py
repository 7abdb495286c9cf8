"""The ``eventstore`` command on a million events: copy SQLite -> PostgreSQL, export and
import; events/s and peak memory (max RSS) of each command, run as a user runs it.

    source /work/wt/NAME.env   # EVENTSTORE_TEST_POSTGRES_URI
    .venv/bin/python -m benchmarks.cli_million [--events 1000000] [--per-sequence 10]

PostgreSQL targets go in a schema of their own (``PGOPTIONS``), dropped and made again for
each run. One measurement each (these are sizes, not comparisons).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import sqlalchemy

from eventstore_core import SequencedItem
from eventstore_core.cli.stores import open_store

EVENTSTORE = str(Path(sys.executable).parent / "eventstore")
SCHEMA = "eventstore_cli_bench"
TOPIC = "eventstore_core.events#DomainEvent"
DATA = '{"amount":100,"currency":"EUR","note":"a typical small event"}'


def fill_sqlite(url: str, events: int, per_sequence: int) -> None:
    store = open_store(url)
    strategy = store.active_record_strategy
    batch: list[SequencedItem] = []
    for _ in range(events // per_sequence):
        sequence_id = uuid4()
        batch.extend(SequencedItem(sequence_id, v, TOPIC, DATA) for v in range(per_sequence))
        if len(batch) >= 10_000:
            strategy.append(batch)
            batch = []
    if batch:
        strategy.append(batch)
    store.close()


def fresh_schema(postgres: str) -> None:
    engine = sqlalchemy.create_engine(postgres)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
    engine.dispose()


def measure(label: str, events: int, *args: str) -> None:
    env = {**os.environ, "PGOPTIONS": f"-c search_path={SCHEMA}"}
    started = time.perf_counter()
    process = subprocess.Popen([EVENTSTORE, *args, "--quiet"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label} failed: {err or out}")
    print(f"{label:<34} {events / elapsed:>9,.0f} events/s  {elapsed:>7.1f} s  "
          f"peak {usage.ru_maxrss / 1024:>6.1f} MiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-sequence", type=int, default=10)
    args = parser.parse_args()
    postgres = os.environ["EVENTSTORE_TEST_POSTGRES_URI"]
    with tempfile.TemporaryDirectory(prefix="eventstore-cli-bench-") as folder:
        source = f"sqlite:///{folder}/source.db"
        started = time.perf_counter()
        fill_sqlite(source, args.events, args.per_sequence)
        print(f"{args.events:,} events in {args.events // args.per_sequence:,} sequences "
              f"written to SQLite in {time.perf_counter() - started:.1f} s", flush=True)
        file = f"{folder}/export.jsonl"
        fresh_schema(postgres)
        measure("copy SQLite -> PostgreSQL", args.events, "copy", source, postgres,
                "--state", f"{folder}/state.json")
        measure("export SQLite -> file", args.events, "export", source, file)
        print(f"  (file: {Path(file).stat().st_size / 2**20:,.0f} MiB)")
        fresh_schema(postgres)
        measure("import file -> PostgreSQL", args.events, "import", file, postgres,
                "--state", f"{folder}/state2.json")
        measure("import file -> SQLite", args.events, "import", file,
                f"sqlite:///{folder}/imported.db", "--state", f"{folder}/state3.json")
        measure("verify SQLite", args.events, "verify", source)
    engine = sqlalchemy.create_engine(postgres)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    engine.dispose()


if __name__ == "__main__":
    main()
