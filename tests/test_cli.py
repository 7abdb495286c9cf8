"""The ``eventstore`` command as a user types it: the installed script, in a subprocess,
against real SQLite, PostgreSQL and Cassandra stores.

PostgreSQL stores live in a schema of their own, made afresh for each test (libpq's
``PGOPTIONS`` sets the ``search_path``, for the commands and this process alike); Cassandra
stores in a keyspace named after ``EVENTSTORE_CASSANDRA_TEST_KEYSPACE``.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue
from typing import Any
from uuid import UUID, uuid4

import pytest

pytest.importorskip("click", reason="needs the cli extra")
pytest.importorskip("rich", reason="needs the cli extra")

from eventstore_core import SequencedItem  # noqa: E402
from eventstore_core.cli.stores import open_store, summarize  # noqa: E402

EVENTSTORE = str(Path(sys.executable).parent / "eventstore")
TOPIC = "eventstore_core.events#DomainEvent"
IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")
POSTGRES_URI = os.environ.get(
    "EVENTSTORE_TEST_POSTGRES_URI",
    "postgresql+psycopg://eventstore:eventstore@127.0.0.1:5432/eventstore_test",
)
CASSANDRA_KEYSPACE = os.environ.get("EVENTSTORE_CASSANDRA_TEST_KEYSPACE", "eventstore_tests")
PG_SCHEMA = "eventstore_cli_tests"
KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64 of 32 bytes


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("EVENTSTORE_URL", "EVENTSTORE_CIPHER", "EVENTSTORE_CIPHER_KEY")}
    return {**base, "COLUMNS": "200", **extra}


def run(*args: str, status: int = 0, extra_env: dict[str, str] | None = None,
        cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([EVENTSTORE, *args], capture_output=True, text=True,
                          env=env(**(extra_env or {})), cwd=cwd, timeout=timeout)
    assert done.returncode == status, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    return done


def populate(url: str, sequences: int, per: int, data: str = '{"amount":1}') -> list[UUID]:
    """``sequences`` sequences of ``per`` items each, written straight to the strategy."""
    store = open_store(url)
    strategy = store.active_record_strategy
    ids = [uuid4() for _ in range(sequences)]
    across = strategy.capabilities.transactions_across_sequences
    try:
        batch: list[Any] = []
        for sequence_id in ids:
            items = [SequencedItem(sequence_id, v, TOPIC, data) for v in range(per)]
            if not across:
                strategy.append(items)
                continue
            batch.extend(items)
            if len(batch) >= 5000:
                strategy.append(batch)
                batch = []
        if batch:
            strategy.append(batch)
    finally:
        store.close()
    return ids


def all_items(url: str) -> list[tuple[Any, ...]]:
    store = open_store(url)
    try:
        return sorted(tuple(item) for item in store.active_record_strategy.all_items())
    finally:
        store.close()


# -- stores -----------------------------------------------------------------------------
def _unavailable(what: str, error: Exception) -> None:
    if IN_CI:
        pytest.fail(f"CI needs {what} for these tests: {error}", pytrace=False)
    pytest.skip(f"no {what}: {error}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/source.db"


@pytest.fixture
def postgres_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A PostgreSQL store in an empty schema of its own."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(POSTGRES_URI)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {PG_SCHEMA}")
    except Exception as error:
        engine.dispose()
        _unavailable("PostgreSQL", error)
    engine.dispose()
    monkeypatch.setenv("PGOPTIONS", f"-c search_path={PG_SCHEMA}")
    yield POSTGRES_URI


@pytest.fixture
def cassandra_url() -> Iterator[str]:
    """A Cassandra store in an empty keyspace of its own (named after the test prefix)."""
    keyspace = f"{CASSANDRA_KEYSPACE}_cli"
    try:
        from eventstore_cassandra import CassandraSettings
        from eventstore_cassandra.datastore import close, connect

        connection = connect(CassandraSettings(keyspace=keyspace, connect_timeout=5.0))
    except Exception as error:
        _unavailable("Cassandra", error)
    try:
        connection.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
    finally:
        close(connection)
    hosts = os.environ.get("CASSANDRA_HOSTS", "127.0.0.1")
    yield f"cassandra://{hosts}/{keyspace}"


# -- info, read, tail, plugins, errors --------------------------------------------------
def global_positions(url: str) -> list[int]:
    """Every global position of the store, read directly (they may be sparse)."""
    store = open_store(url)
    positions: list[int] = []
    try:
        while page := store.active_record_strategy.read_all(positions[-1] if positions else 0):
            positions.extend(o.global_position for o in page)
    finally:
        store.close()
    return positions


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_info_read_and_tail(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    ids = populate(url, sequences=3, per=10)

    feed = global_positions(url)
    assert len(feed) == 30
    info = json.loads(run("info", url, "--json").stdout)
    assert (info["items"], info["sequences"], info["global_position"]) == (30, 3, feed[-1])
    assert "password" not in info["store"] and "eventstore:***@" in info["store"] or \
        backend == "sqlite"
    text = run("info", url).stdout
    assert "items            30" in text and "sequences        3" in text

    rows = run("read", url, str(ids[1]), "--gte", "2", "--lt", "5").stdout.splitlines()
    assert rows[0].split() == ["SEQUENCE", "POSITION", "TOPIC", "DATA"]
    assert [row.split()[1] for row in rows[1:]] == ["2", "3", "4"]
    lines = run("read", url, str(ids[1]), "--desc", "--limit", "2", "--json").stdout
    assert [json.loads(line)["position"] for line in lines.splitlines()] == [9, 8]

    tail = run("tail", url, "-n", "4", "--json").stdout.splitlines()
    assert [json.loads(line)["global_position"] for line in tail] == feed[-4:]
    tail = run("tail", url, str(ids[0]), "-n", "3").stdout.splitlines()
    assert [row.split()[1] for row in tail[1:]] == ["7", "8", "9"]

    # the store may be named by EVENTSTORE_URL instead
    by_env = run("read", str(ids[2]), "--json", extra_env={"EVENTSTORE_URL": url}).stdout
    assert len(by_env.splitlines()) == 10


def test_errors_are_one_line_without_traceback_unless_debug(tmp_path: Path) -> None:
    done = run("info", "nosuchscheme://x", status=1)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("eventstore: error: ")
    done = run("read", f"sqlite:///{tmp_path}/x.db", "not-a-uuid", status=2)
    assert "not a sequence id" in done.stderr and "Traceback" not in done.stderr
    done = run("info", status=1)
    assert "EVENTSTORE_URL" in done.stderr
    done = run("--debug", "info", "nosuchscheme://x", status=1)
    assert "Traceback" in done.stderr
    secret = "postgresql+psycopg://u:s3cret@127.0.0.1:1/none?connect_timeout=1"
    done = run("info", secret, status=1)
    assert "s3cret" not in done.stderr and done.stderr.count("\n") == 1


def test_without_the_cli_extra_the_command_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "class Missing:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('click', 'rich'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Missing())\n"
        "from eventstore_core.cli import main\n"
        "sys.exit(main(['info', 'memory://']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env(), timeout=60)
    assert done.returncode == 2
    assert "pip install 'eventstore-core[cli]'" in done.stderr


def test_plugins_lists_what_is_installed() -> None:
    text = run("plugins").stdout
    assert "memory (eventstore-core)" in text and "sqlalchemy (eventstore-sqlalchemy)" in text
    listed = json.loads(run("plugins", "--json").stdout)
    assert {"eventstore_core.memory", "sqlalchemy"} <= {p["name"] for p in listed["plugins"]}


def test_tail_follow_wakes_on_new_items_on_postgresql(postgres_url: str) -> None:
    ids = populate(postgres_url, sequences=1, per=2)
    follower = subprocess.Popen([EVENTSTORE, "tail", postgres_url, "-n", "1", "--follow",
                                 "--json", "--poll", "30"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env())
    lines: Queue[str] = Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout or ()],
                     daemon=True).start()
    try:
        first = json.loads(lines.get(timeout=60))
        assert first["position"] == 1
        store = open_store(postgres_url)
        store.active_record_strategy.append([SequencedItem(ids[0], 2, TOPIC, "{}")])
        store.active_record_strategy.append([SequencedItem(ids[0], 3, TOPIC, "{}")])
        store.close()
        # --poll 30: only a notification can bring them this soon
        seen = [json.loads(lines.get(timeout=20)) for _ in range(2)]
        assert [line["position"] for line in seen] == [2, 3]
        assert first["global_position"] < seen[0]["global_position"] < seen[1]["global_position"]
    except Empty:
        follower.kill()
        pytest.fail(f"no line from tail --follow: {follower.communicate()[1]}")
    finally:
        ended_early = follower.poll()  # it must still be following when Ctrl-C comes
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)
    errors = follower.stderr.read() if follower.stderr else ""
    assert ended_early is None, f"tail --follow ended by itself ({ended_early}): {errors}"
    assert follower.returncode == 0, errors


def test_tail_follow_of_one_sequence_shows_only_its_new_items(sqlite_url: str) -> None:
    ids = populate(sqlite_url, sequences=2, per=3)
    follower = subprocess.Popen([EVENTSTORE, "tail", sqlite_url, str(ids[0]), "-n", "1",
                                 "--follow", "--json", "--poll", "0.1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env())
    lines: Queue[str] = Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout or ()],
                     daemon=True).start()
    try:
        assert json.loads(lines.get(timeout=60))["position"] == 2
        store = open_store(sqlite_url)
        store.active_record_strategy.append([SequencedItem(ids[1], 3, TOPIC, "{}")])
        store.active_record_strategy.append([SequencedItem(ids[0], 3, TOPIC, "{}")])
        store.close()
        line = json.loads(lines.get(timeout=30))
        assert (line["sequence_id"], line["position"]) == (str(ids[0]), 3)
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)
    assert follower.returncode == 0 and lines.empty()


# -- copy -------------------------------------------------------------------------------
def test_copy_interrupted_with_sigint_resumes_without_duplicates_or_gaps(
    sqlite_url: str, postgres_url: str, tmp_path: Path
) -> None:
    populate(sqlite_url, sequences=500, per=60)  # 30,000 items
    state = tmp_path / "copy-state.json"
    copier = subprocess.Popen(
        [EVENTSTORE, "copy", sqlite_url, postgres_url, "--batch-size", "100",
         "--state", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
    )
    deadline = time.monotonic() + 120
    while not state.exists() and copier.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    copier.send_signal(signal.SIGINT)
    out, err = copier.communicate(timeout=120)
    assert copier.returncode == 130, (out, err)
    assert "interrupted after" in err and "run the same command again" in err
    copied_before = json.loads(state.read_text())["copied"]
    assert 0 < copied_before < 30_000
    assert summarize(open_store(postgres_url)).items == copied_before

    done = run("copy", sqlite_url, postgres_url, "--batch-size", "100", "--state", str(state))
    assert f"resumed after {copied_before:,}" in done.stdout
    assert "check: every sequence of the source has its 30,000 items" in done.stdout
    assert "copy: 30,000 items (" in done.stderr  # the plain progress lines, not a terminal
    assert not state.exists()
    assert all_items(postgres_url) == all_items(sqlite_url)

    # a state file behind what was written (a crash between commit and record): the items
    # already there are found and skipped, none written twice
    state.write_text(json.dumps({"job": _job(sqlite_url, postgres_url), "token": 0,
                                 "copied": 0}))
    done = run("copy", sqlite_url, postgres_url, "--state", str(state))
    assert "0 items written" in done.stdout and "30,000 already there" in done.stdout
    assert all_items(postgres_url) == all_items(sqlite_url)


def _job(source: str, target: str) -> str:
    from eventstore_core.cli.transfer import StateFile
    from eventstore_core.urls import redact

    return StateFile(Path("x"), redact(source), redact(target)).job


def test_copy_sqlite_to_cassandra_and_back(
    sqlite_url: str, cassandra_url: str, tmp_path: Path
) -> None:
    populate(sqlite_url, sequences=20, per=15)
    run("copy", sqlite_url, cassandra_url, "--batch-size", "40", cwd=tmp_path)
    info = json.loads(run("info", cassandra_url, "--json").stdout)
    assert (info["items"], info["sequences"]) == (300, 20)
    assert info["capabilities"]["global_order"] == (info["global_position"] is not None)
    back = f"sqlite:///{tmp_path}/back.db"
    done = run("copy", cassandra_url, back, cwd=tmp_path)
    assert "check: every sequence" in done.stdout
    assert all_items(back) == all_items(sqlite_url)
    sequence = all_items(sqlite_url)[0][0]
    rows = run("tail", cassandra_url, str(sequence), "-n", "2", "--json").stdout.splitlines()
    assert [json.loads(row)["position"] for row in rows] == [13, 14]
    # the feed (shown after its delay, which the copy back above waited out)
    rows = run("tail", cassandra_url, "-n", "3", "--json").stdout.splitlines()
    feed = [json.loads(row) for row in rows]
    assert len(feed) == 3
    assert [line["global_position"] for line in feed] == sorted(
        line["global_position"] for line in feed)
    run("verify", cassandra_url)


def test_copy_reports_a_target_that_differs(sqlite_url: str, tmp_path: Path) -> None:
    ids = populate(sqlite_url, sequences=2, per=5)
    target = f"sqlite:///{tmp_path}/target.db"
    other = open_store(target)
    other.active_record_strategy.append([SequencedItem(ids[0], 7, TOPIC, "{}")])
    other.close()
    done = run("copy", sqlite_url, target, cwd=tmp_path, status=1)
    assert f"sequence {ids[0]}: source has 5 items up to position 4, target has 6 up to 7" \
        in done.stderr


# -- export and import ------------------------------------------------------------------
def _peak_rss_kib(args: list[str]) -> int:
    process = subprocess.Popen([EVENTSTORE, *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env())
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    return usage.ru_maxrss


def test_export_import_round_trip_in_bounded_memory(
    sqlite_url: str, postgres_url: str, tmp_path: Path
) -> None:
    small, large = f"sqlite:///{tmp_path}/small.db", sqlite_url
    populate(small, sequences=50, per=20)  # 1,000 items
    populate(large, sequences=2_000, per=50, data='{"amount":1,"note":"' + "x" * 100 + '"}')
    small_file, large_file = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    export_small = _peak_rss_kib(["export", small, str(small_file)])
    export_large = _peak_rss_kib(["export", large, str(large_file)])
    import_small = _peak_rss_kib(["import", str(small_file), f"sqlite:///{tmp_path}/s2.db"])
    import_large = _peak_rss_kib(["import", str(large_file), postgres_url])
    # 100 times the items (about 25 MB of file): the peak grows by far less than they hold
    assert large_file.stat().st_size > 20_000_000
    assert export_large - export_small < 16_000, (export_small, export_large)
    assert import_large - import_small < 16_000, (import_small, import_large)

    lines = large_file.read_bytes().splitlines()
    header, end = json.loads(lines[0]), json.loads(lines[-1])
    assert (header["format"], header["version"], header["data"]) == (
        "eventstore-export", 1, "as-stored")
    assert end == {"end": True, "items": 100_000} and len(lines) == 100_002
    assert all_items(postgres_url) == all_items(large)


def test_an_export_cut_short_is_refused_after_what_it_held(
    sqlite_url: str, tmp_path: Path
) -> None:
    populate(sqlite_url, sequences=3, per=4)
    file = tmp_path / "e.jsonl"
    run("export", sqlite_url, str(file))
    file.write_bytes(b"".join(file.read_bytes().splitlines(keepends=True)[:-1]))
    target = f"sqlite:///{tmp_path}/t.db"
    done = run("import", str(file), target, cwd=tmp_path, status=1)
    assert "without its closing line: the file was cut short" in done.stderr
    not_an_export = tmp_path / "x.jsonl"
    not_an_export.write_text('{"hello": 1}\n')
    done = run("import", str(not_an_export), target, cwd=tmp_path, status=1)
    assert "is not an eventstore export" in done.stderr


def test_encrypted_data_is_exported_as_stored_unless_the_key_is_given(tmp_path: Path) -> None:
    encrypted = f"sqlite:///{tmp_path}/enc.db?cipher=aes"
    with_key = {"EVENTSTORE_CIPHER_KEY": KEY}
    from eventstore_core import DomainEvent, EventStore

    store = EventStore.from_config("sqlalchemy", uri=f"sqlite:///{tmp_path}/enc.db",
                                   cipher="aes", cipher_key=KEY)

    sequence = uuid4()
    store.append([DomainEvent(originator_id=sequence, originator_version=v, secret="plain-text")
                  for v in range(3)])
    store.close()
    as_stored, decrypted = tmp_path / "as-stored.jsonl", tmp_path / "decrypted.jsonl"
    run("export", encrypted.replace("?cipher=aes", ""), str(as_stored))
    assert "plain-text" not in as_stored.read_text()
    run("export", encrypted, str(decrypted), extra_env=with_key)
    assert json.loads(decrypted.read_text().splitlines()[0])["data"] == "decrypted"
    assert decrypted.read_text().count("plain-text") == 3

    # a decrypted export goes back in encrypted, given the target's key
    target = f"sqlite:///{tmp_path}/enc2.db"
    run("import", str(decrypted), f"{target}?cipher=aes", cwd=tmp_path, extra_env=with_key)
    assert "plain-text" not in str(all_items(target))
    shown = run("read", f"{target}?cipher=aes", str(sequence), extra_env=with_key).stdout
    assert shown.count("plain-text") == 3
    run("verify", f"{target}?cipher=aes", extra_env=with_key)
    done = run("verify", target, status=1)
    assert "items whose data cannot be read: 3" in done.stdout
    assert "may be encrypted" in done.stdout


# -- verify -----------------------------------------------------------------------------
def test_verify_reports_a_corrupt_row_a_gap_and_an_unknown_topic(
    sqlite_url: str, tmp_path: Path
) -> None:
    ids = populate(sqlite_url, sequences=4, per=10)
    assert "verify: OK: 40 items in 4 sequences" in run("verify", sqlite_url).stdout
    database = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    with database:
        table = "integer_sequenced_items"
        database.execute(f"UPDATE {table} SET data = 'not json {{' WHERE position = 3 "
                         "AND sequence_id = ?", (ids[0].hex,))
        database.execute(f"DELETE FROM {table} WHERE position IN (4, 5) AND sequence_id = ?",
                         (ids[1].hex,))
        database.execute(f"UPDATE {table} SET topic = 'gone.module#Event' WHERE position = 0 "
                         "AND sequence_id = ?", (ids[2].hex,))
    database.close()
    done = run("verify", sqlite_url, status=1)
    assert "verify: PROBLEMS: 38 items in 4 sequences" in done.stdout
    assert f"item at position 3 of sequence {ids[0]}: data is not valid JSON" in done.stdout
    assert f"sequence {ids[1]}: positions 4 to 5 missing" in done.stdout
    assert "gone.module" in done.stdout and "(1 items)" in done.stdout
    report = json.loads(run("verify", sqlite_url, "--json", status=1).stdout)
    assert report["counts"] == {"unreadable": 1, "gap": 1, "topic": 1}
    skipped = json.loads(run("verify", sqlite_url, "--json", "--skip-topics", status=1).stdout)
    assert skipped["counts"] == {"unreadable": 1, "gap": 1}


def test_verify_checks_snapshots_against_their_events(sqlite_url: str, tmp_path: Path) -> None:
    ids = populate(sqlite_url, sequences=2, per=5)
    snapshots = f"{sqlite_url}?record=snapshot"
    store = open_store(snapshots)
    snapshot_topic = "eventstore_core.snapshots#Snapshot"
    state = json.dumps({"topic": "builtins#dict", "state": {"n": 1}})
    store.active_record_strategy.append(SequencedItem(ids[0], 4, snapshot_topic, state))
    store.active_record_strategy.append(SequencedItem(ids[1], 9, snapshot_topic, state))
    store.close()
    done = run("verify", sqlite_url, "--snapshots", snapshots, status=1)
    assert "10 items in 2 sequences, 2 snapshots" in done.stdout
    assert f"snapshot of sequence {ids[1]} at version 9: the sequence's events are at 0 to 4" \
        in done.stdout
    assert f"sequence {ids[0]}" not in done.stdout
