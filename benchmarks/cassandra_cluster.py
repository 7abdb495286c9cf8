"""The Cassandra backend on the three-node cluster, against the single node and the raw driver.

    scripts/servers/cassandra.sh start; scripts/servers/cassandra-cluster.sh start
    .venv/bin/python -m benchmarks.cassandra_cluster [--rounds 5] [--main COMMIT]

Contenders, alternated round by round (A B C D E, A B C D E, ...), each on fresh sequences,
the store's tables split into partitions of 50,000 positions (the default; keyspace
``bench_split``):

* ``cluster``: the store on the cluster (RF 3, QUORUM, SERIAL), with its feed;
* ``single``: the store on the single node (RF 1, LOCAL_QUORUM, LOCAL_SERIAL), with its feed;
* ``raw``: cassandra-driver alone on the cluster running the statements the store runs for
  the same append: the feed entry (a plain insert, plus the bucket's index rows once, plus,
  for a partition other than 0, its note in partition 0's static set, all at once), then the
  conditional insert or batch with the entry's nonce;
* ``cluster-nofeed``: the store on the cluster with ``feed=False`` (what the feed costs);
* ``cluster-main``: the package as of ``--main`` (default: the commit ``/work/main`` is at,
  before the split), copied out of git under another name, on the cluster in keyspace
  ``bench_cluster``, whose tables are not split (what the split costs).

W1: 100 events an append (one conditional batch), round-robin over 10 sequences. W2: one
event an append; its median latency is what one LWT (plus the feed entry) costs.
Then what one LWT costs (``lwt_cost``: the driver alone, plain write, LWT and read, single
node and cluster alternated). Then the feed: events/s of ``read_all`` from the start, first
read (deciding every entry) and second read (decided), and the delay from an append
returning to a live subscriber receiving it (median, 99th percentile), at the default
``feed_delay`` (5 s) and at 1 s.
Figures are medians of pair-by-pair ratios (and of the values), one line per measure; then
W1 and W2 once more interleaved operation by operation (``interleaved``: every contender's
append in turn, the order reversed each time), the steadier figure on a busy machine.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventstore_cassandra import CassandraActiveRecordStrategy, CassandraSettings
from eventstore_cassandra.feed import BUCKET_US, DAY_US, NONCE_BITS, now_us

from eventstore_core.sequenceditem import SequencedItem
from eventstore_core.subscription import CatchUpSubscription

Store = CassandraActiveRecordStrategy[SequencedItem]
Append = Callable[[list[SequencedItem]], None]
TOPIC = "eventstore_core.events#DomainEvent"
DATA = '{"amount": 12345, "note": "' + "x" * 60 + '"}'
CLUSTER_HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
CLUSTER_PORT = 9142
KEYSPACE = "bench_split"
MAIN_KEYSPACE = "bench_cluster"
PACKAGE = "plugins/cassandra_backend/eventstore_cassandra"
REPO = Path(__file__).resolve().parents[1]


def cluster_settings(**overrides: Any) -> CassandraSettings:
    values: dict[str, Any] = {
        "hosts": CLUSTER_HOSTS, "port": CLUSTER_PORT, "keyspace": KEYSPACE,
        "replication_factor": 3, "consistency_level": "QUORUM",
        "serial_consistency_level": "SERIAL",
    }
    values.update(overrides)
    return CassandraSettings(**values)


def single_settings(**overrides: Any) -> CassandraSettings:
    return CassandraSettings(hosts=("127.0.0.1",), port=9042, keyspace=KEYSPACE, **overrides)


class Raw:
    """The driver alone, the store's statements for one append (feed entry, then the LWT)."""

    def __init__(self, settings: CassandraSettings) -> None:
        from cassandra import ConsistencyLevel
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
        from cassandra.query import tuple_factory

        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()),
            consistency_level=ConsistencyLevel.name_to_value[settings.consistency_level],
            serial_consistency_level=ConsistencyLevel.name_to_value[
                settings.serial_consistency_level],
            request_timeout=12.0, row_factory=tuple_factory,
        )
        self.cluster = Cluster(list(settings.hosts), port=settings.port,
                               execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                               sockopts=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self.session = session = self.cluster.connect()
        table = f'"{KEYSPACE}"."integer_sequenced_items"'
        self.insert = session.prepare(
            f'INSERT INTO {table} ("sequence_id", "partition_nr", "position", "topic", "data", '
            '"feed_id") VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS')
        self.note = session.prepare(
            f'UPDATE {table} SET "later_partitions" = "later_partitions" + ? WHERE '
            '"sequence_id" = ? AND "partition_nr" = 0')
        self.noted: set[tuple[UUID, int]] = set()
        self.announce = session.prepare(
            f'INSERT INTO "{KEYSPACE}"."integer_sequenced_items_feed" (bucket, ts, nonce, '
            "sequence_id, first_position, last_position) VALUES (?, ?, ?, ?, ?, ?)")
        self.index = session.prepare(
            f'INSERT INTO "{KEYSPACE}"."integer_sequenced_items_feed_index" (level, key, value) '
            "VALUES (?, ?, ?)")
        self.indexed: set[int] = set()

    def append(self, items: list[SequencedItem]) -> None:
        from cassandra.query import BatchStatement, BatchType

        ts = now_us()
        nonce, bucket = secrets.randbits(NONCE_BITS), ts // BUCKET_US
        first, last = items[0][1], items[-1][1]
        writes = [self.announce.bind((bucket, ts, nonce, items[0][0], first, last))]
        if bucket not in self.indexed:
            day = ts // DAY_US
            writes += [self.index.bind((0, 0, day)), self.index.bind((1, day, bucket))]
        partition = first // SPLIT  # W1 and W2 never cross a boundary of 50,000
        if partition and (items[0][0], partition) not in self.noted:  # (never in W1, W2)
            writes.append(self.note.bind(({partition}, items[0][0])))
        for future in [self.session.execute_async(w) for w in writes]:
            future.result()
        self.indexed.add(bucket)
        self.noted.add((items[0][0], partition))
        bound = [self.insert.bind((i[0], partition, i[1], i[2], i[3], nonce)) for i in items]
        if len(bound) == 1:
            statement: Any = bound[0]
        else:
            statement = BatchStatement(batch_type=BatchType.UNLOGGED)
            for one in bound:
                statement.add(one)
        rows = self.session.execute(statement).current_rows
        if rows and not rows[0][0]:
            raise RuntimeError("position taken")

    def close(self) -> None:
        self.cluster.shutdown()


SPLIT = 50_000


def package_at(commit: str, into: Path) -> Any:
    """The package as of ``commit``, importable as ``eventstore_cassandra_main``."""
    import importlib

    target = into / "eventstore_cassandra_main"
    target.mkdir()
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{commit}:{PACKAGE}"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        if name.endswith((".py", ".typed")):
            text = subprocess.run(["git", "show", f"{commit}:{PACKAGE}/{name}"], cwd=REPO,
                                  capture_output=True, text=True, check=True).stdout
            (target / name).write_text(text)
    sys.path.insert(0, str(into))
    return importlib.import_module("eventstore_cassandra_main")


def main_commit() -> str:
    return subprocess.run(["git", "-C", "/work/main", "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()


def appenders(main: str | None) -> dict[str, tuple[Append, Callable[[], None]]]:
    stores: dict[str, Any] = {
        "cluster": CassandraActiveRecordStrategy(settings=cluster_settings()),
        "single": CassandraActiveRecordStrategy(settings=single_settings()),
        "cluster-nofeed": CassandraActiveRecordStrategy(settings=cluster_settings(feed=False)),
    }
    raw = Raw(cluster_settings())
    names = ["cluster", "single", "raw", "cluster-nofeed"]
    if main:
        before = package_at(main, Path(tempfile.mkdtemp()))
        known = before.CassandraSettings.__dataclass_fields__
        values = {name: value for name, value in vars(cluster_settings(keyspace=MAIN_KEYSPACE))
                  .items() if name in known}
        stores["cluster-main"] = before.CassandraActiveRecordStrategy(
            settings=before.CassandraSettings(**values))
        names.append("cluster-main")
    made: dict[str, tuple[Append, Callable[[], None]]] = {
        name: (store.append, store.close) for name, store in stores.items()}
    made["raw"] = (raw.append, raw.close)
    return {name: made[name] for name in names}


def w1(append: Callable[[list[SequencedItem]], None], calls: int = 20) -> dict[str, float]:
    sequences = [uuid4() for _ in range(10)]
    batches = [[SequencedItem(sequences[n % 10], (n // 10) * 100 + p, TOPIC, DATA)
                for p in range(100)] for n in range(calls)]
    started = time.perf_counter()
    for batch in batches:
        append(batch)
    return {"W1 events/s": calls * 100 / (time.perf_counter() - started)}


def w2(append: Callable[[list[SequencedItem]], None], calls: int = 200) -> dict[str, float]:
    sequence_id = uuid4()
    events = [[SequencedItem(sequence_id, p, TOPIC, DATA)] for p in range(calls)]
    latencies = []
    started = time.perf_counter()
    for one in events:
        begun = time.perf_counter()
        append(one)
        latencies.append(time.perf_counter() - begun)
    return {"W2 events/s": calls / (time.perf_counter() - started),
            "W2 median latency ms": statistics.median(latencies) * 1000}


def compare(rounds: int, main: str | None) -> None:
    sides = appenders(main)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for append, _ in sides.values():  # warm up: prepare, connect every node
        w1(append, 3)
        w2(append, 20)
    for _ in range(rounds):
        for name, (append, _) in sides.items():
            results[name].append({**w1(append), **w2(append)})
    for _, close in sides.values():
        close()
    measures = list(results["cluster"][0])
    print(f"{'measure':24} " + " ".join(f"{name:>15}" for name in results))
    for measure in measures:
        medians = [statistics.median(r[measure] for r in results[name]) for name in results]
        print(f"{measure:24} " + " ".join(f"{value:15.1f}" for value in medians))
    for measure in ("W1 events/s", "W2 events/s"):
        pairs = [("cluster", "raw"), ("cluster", "single"), ("cluster", "cluster-nofeed")]
        if "cluster-main" in results:
            pairs.append(("cluster", "cluster-main"))
        for a, b in pairs:
            ratios = [x[measure] / y[measure] for x, y in zip(results[a], results[b], strict=True)]
            print(f"{measure}: {a} / {b} = {statistics.median(ratios):.2f} "
                  f"(pairs: {', '.join(f'{r:.2f}' for r in ratios)})")


def interleaved(main: str | None, operations: int) -> None:
    """W1 and W2 again, alternated operation by operation (each append of every contender in
    turn, the order reversed each time), so that the load of the machine, which changes from
    second to second here, weighs on every contender alike: median latencies and their
    ratios."""
    sides = appenders(main)
    names = list(sides)
    latencies: dict[tuple[str, str], list[float]] = {}
    for work, size in (("W1", 100), ("W2", 1)):
        sequences = {name: [uuid4() for _ in range(10)] for name in names}
        for n in range(operations + 5):
            order = names if n % 2 == 0 else names[::-1]
            for name in order:
                sequence_id = sequences[name][n % 10]
                batch = [SequencedItem(sequence_id, (n // 10) * size + p, TOPIC, DATA)
                         for p in range(size)]
                begun = time.perf_counter()
                sides[name][0](batch)
                if n >= 5:  # the first few warm up
                    latencies.setdefault((work, name), []).append(time.perf_counter() - begun)
    for _, close in sides.values():
        close()
    print(f"interleaved, {operations} operations each: median latency ms")
    print(f"{'':6}" + " ".join(f"{name:>15}" for name in names))
    for work in ("W1", "W2"):
        medians = {name: statistics.median(latencies[(work, name)]) for name in names}
        print(f"{work:6}" + " ".join(f"{medians[name] * 1000:15.2f}" for name in names))
        for a, b in (("cluster", "raw"), ("cluster", "single"), ("cluster", "cluster-nofeed"),
                     ("cluster", "cluster-main")):
            if a in medians and b in medians:
                print(f"  {work} speed {a} / {b} = {medians[b] / medians[a]:.2f}")


def lwt_cost(rounds: int, requests: int = 100) -> None:
    """What one LWT costs against a plain write and a read, single node and cluster, by the
    driver alone: the median latency of each, rounds alternated (single, cluster; cluster,
    single; ...), each request on a fresh partition as an append to a new sequence is."""
    sides = {"single": Raw(single_settings()), "cluster": Raw(cluster_settings())}
    for side in sides.values():
        side.session.execute(
            f'CREATE TABLE IF NOT EXISTS "{KEYSPACE}"."lwt_probe" (k uuid, c int, v text, '
            "PRIMARY KEY (k, c))", timeout=60)
    statements = {
        name: {
            "plain write": side.session.prepare(
                f'INSERT INTO "{KEYSPACE}"."lwt_probe" (k, c, v) VALUES (?, 0, ?)'),
            "LWT write": side.session.prepare(
                f'INSERT INTO "{KEYSPACE}"."lwt_probe" (k, c, v) VALUES (?, 0, ?) IF NOT EXISTS'),
            "read": side.session.prepare(
                f'SELECT v FROM "{KEYSPACE}"."lwt_probe" WHERE k = ? AND c = 0'),
        } for name, side in sides.items()}
    latencies: dict[tuple[str, str], list[float]] = {}
    order = list(sides)
    for _ in range(rounds):
        for name in order:
            session = sides[name].session
            keys = [uuid4() for _ in range(requests)]
            for kind, statement in statements[name].items():
                for key in keys:
                    bound = statement.bind((key,) if kind == "read" else (key, DATA))
                    begun = time.perf_counter()
                    session.execute(bound)
                    latencies.setdefault((name, kind), []).append(time.perf_counter() - begun)
        order.reverse()
    for side in sides.values():
        side.close()
    print(f"{'median latency, ms':20} " + " ".join(f"{name:>10}" for name in sides))
    for kind in ("plain write", "LWT write", "read"):
        print(f"{kind:20} " + " ".join(
            f"{statistics.median(latencies[(name, kind)]) * 1000:10.2f}" for name in sides))
    for name in sides:
        lwt = statistics.median(latencies[(name, "LWT write")])
        plain = statistics.median(latencies[(name, "plain write")])
        print(f"{name}: an LWT costs {lwt / plain:.1f}x a plain write")


def feed_read(settings: CassandraSettings, events: int = 3000) -> None:
    store: Store = CassandraActiveRecordStrategy(settings=settings)
    start = (now_us() << 64)
    sequences = [uuid4() for _ in range(10)]
    for n in range(events // 10):
        store.append([SequencedItem(sequences[n % 10], (n // 10) * 10 + p, TOPIC, DATA)
                      for p in range(10)])
    time.sleep(settings.feed_delay + 0.5)
    for label in ("first read (decides)", "second read"):
        reader: Store = CassandraActiveRecordStrategy(settings=settings)
        count, after, began = 0, start, time.perf_counter()
        while True:
            page = reader.read_all(after, 1000)
            if not page:
                break
            count += len(page)
            after = page[-1].global_position
        seconds = time.perf_counter() - began
        print(f"feed read on {settings.hosts[0]}:{settings.port}, {label}: {count} events "
              f"in {seconds:.2f} s = {count / seconds:.0f} events/s")
        reader.close()
    store.close()


def feed_delay(settings: CassandraSettings, seconds: float = 12.0) -> None:
    writer: Store = CassandraActiveRecordStrategy(settings=settings)
    follower: Store = CassandraActiveRecordStrategy(settings=settings)
    appended: dict[tuple[UUID, int], float] = {}
    delays: list[float] = []
    sequence_id = uuid4()
    subscription = CatchUpSubscription(follower, after=now_us() << 64, poll_interval=0.05)

    def follow() -> None:
        for ordered in subscription:
            key = (ordered.item[0], ordered.item[1])
            if key in appended:
                delays.append(time.time() - appended[key])

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    position, until = 0, time.monotonic() + seconds
    while time.monotonic() < until:
        writer.append(SequencedItem(sequence_id, position, TOPIC, DATA))
        appended[(sequence_id, position)] = time.time()
        position += 1
        time.sleep(0.02)
    deadline = time.monotonic() + settings.feed_delay + 5
    while len(delays) < position and time.monotonic() < deadline:
        time.sleep(0.1)
    subscription.stop()
    thread.join(timeout=10)
    delays.sort()
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(f"append to delivery, feed_delay={settings.feed_delay} s on {settings.hosts[0]}:"
          f"{settings.port}: {len(delays)}/{position} delivered, median "
          f"{statistics.median(delays):.3f} s, p99 {p99:.3f} s")
    writer.close()
    follower.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--main", default=None,
                        help="commit of the package to compare with (default: /work/main's)")
    parser.add_argument("--no-main", action="store_true", help="leave cluster-main out")
    parser.add_argument("--compare-only", action="store_true", help="skip the feed measures")
    parser.add_argument("--operations", type=int, default=200,
                        help="appends of each contender in the interleaved run (0: none)")
    arguments = parser.parse_args()
    main_at = None if arguments.no_main else (arguments.main or main_commit())
    compare(arguments.rounds, main_at)
    if arguments.operations:
        interleaved(main_at, arguments.operations)
    lwt_cost(arguments.rounds)
    if arguments.compare_only:
        return
    feed_read(cluster_settings())
    feed_read(single_settings())
    feed_delay(cluster_settings())
    feed_delay(cluster_settings(feed_delay=1.0, feed_write_window=0.3))


if __name__ == "__main__":
    main()
