"""Run the benchmark of issue 5: this project against eventsourcing 9.5.6 and the raw drivers.

    python -m benchmarks [--quick] [--only W1,W3] [--backends memory,sqlite,postgres,cassandra]

Prints one table (medians; ratios are medians of round-by-round speed ratios, above 1 means
this project is faster) and writes every round to benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from . import report, servers, w6, w7
from .sides import Side, TempDir
from .timing import Progress
from .w4 import w4
from .workload import FULL, QUICK, Sizes
from .workloads import Result, w1, w2, w3, w5

WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "W7")
BACKENDS = ("memory", "sqlite", "postgres", "cassandra")
DEFAULT_JSON = "benchmarks/results/latest.json"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="e.g. W1,W3")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="e.g. sqlite,postgres")
    parser.add_argument("--pairs", type=int, help="timed rounds (default 3, quick 2)")
    parser.add_argument("--w6-events", type=int, help="events of W6's sequence (1,000,000)")
    parser.add_argument("--w7-writers", help="W7's numbers of writer processes (1,2,4,8,16)")
    parser.add_argument("--w7-seconds", type=float, help="seconds each W7 repetition runs (3)")
    parser.add_argument("--cassandra-wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for Cassandra to answer before skipping it")
    parser.add_argument("--libraries", default="ours,eventsourcing,raw",
                        help="contenders, e.g. ours (for comparing versions)")
    parser.add_argument("--json", default=DEFAULT_JSON, help=f"default {DEFAULT_JSON}")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    args.only = {w.strip().upper() for w in args.only.split(",") if w.strip()}
    args.backends = [b.strip().lower() for b in args.backends.split(",") if b.strip()]
    for name in args.only - set(WORKLOADS):
        parser.error(f"unknown workload {name}; choose from {', '.join(WORKLOADS)}")
    for name in set(args.backends) - set(BACKENDS):
        parser.error(f"unknown backend {name}; choose from {', '.join(BACKENDS)}")
    return args


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def backend_problem(backend: str, wait: float = 0.0) -> str | None:
    if backend == "postgres":
        return servers.postgres_problem()
    if backend == "cassandra":
        deadline = time.monotonic() + wait
        while (problem := servers.cassandra_problem()) and time.monotonic() < deadline:
            time.sleep(5)
        return problem
    return None


def make_sides(backend: str, notes: list[str]) -> list[Side]:
    """Every contender on a backend: ours (when its plugin is installed), theirs, raw."""
    from . import eventsourcing_side as es
    from . import ours, raw

    sides: list[Side] = []
    plugin = {"sqlite": "eventstore_sqlalchemy", "postgres": "eventstore_sqlalchemy",
              "cassandra": "eventstore_cassandra"}.get(backend)
    if plugin and not installed(plugin):
        notes.append(f"{backend}: ours not measured, {plugin} is not installed")
    elif backend == "memory":
        sides.append(ours.MemorySide())
    elif backend == "sqlite":
        sides.append(ours.SQLiteSide())
    elif backend == "postgres":
        sides.append(ours.PostgresSide())
    elif backend == "cassandra":
        sides.append(ours.CassandraSide())
    if backend == "memory":
        sides.append(es.POPOSide())
    elif backend == "sqlite":
        sides += [es.SQLiteSide(), raw.SQLiteSide()]
    elif backend == "postgres":
        sides += [es.PostgresSide(), raw.PostgresSide("executemany"), raw.PostgresSide("copy")]
    elif backend == "cassandra":
        from . import raw_cassandra

        sides.append(raw_cassandra.CassandraSide())
    return sides


Runner = Callable[[str, list[Side], Sizes, Callable[[str], None]], Result]
SIDE_WORKLOADS: dict[str, tuple[Runner, Callable[[Side], bool]]] = {
    "W1": (w1, lambda side: True),
    "W2": (w2, lambda side: side.label != "raw:copy"),
    "W3": (w3, lambda side: side.label != "raw:copy"),
    "W5": (w5, lambda side: side.library != "raw"),
}


def run_backend(backend: str, args: argparse.Namespace, sizes: Sizes, progress: Progress,
                notes: list[str]) -> list[Result]:
    problem = backend_problem(backend, args.cassandra_wait)
    if problem:
        notes.append(f"{backend}: not measured, {problem}")
        progress(f"{backend}: skipped ({problem})")
        return []
    sides = [side for side in make_sides(backend, notes)
             if side.library in args.libraries.split(",")]
    results = []
    try:
        for name, (runner, wanted) in SIDE_WORKLOADS.items():
            chosen = [side for side in sides if wanted(side)]
            if name not in args.only or len(chosen) < 1:
                continue
            progress.context = f"{name} {backend}:"
            result = run_workload(name, backend, runner, chosen, args, sizes, progress, notes)
            if result is not None:
                results.append(result)
    finally:
        for side in sides:
            side.cleanup()
    return results


def run_workload(name: str, backend: str, runner: Runner, sides: list[Side],
                 args: argparse.Namespace, sizes: Sizes, progress: Progress,
                 notes: list[str]) -> Result | None:
    """One workload; if its server went away meanwhile, wait for it and try once more."""
    for attempt in (1, 2):
        problem = backend_problem(backend, args.cassandra_wait)
        if problem:
            notes.append(f"{name} {backend}: not measured, {problem}")
            return None
        try:
            return runner(backend, sides, sizes, progress)
        except Exception as error:  # one failure must not lose the rest of the run
            failure = f"{type(error).__name__}: {error}"
            progress(f"FAILED: {failure}")
            if attempt == 1 and backend_problem(backend):
                progress("the server went away: waiting for it, then trying again")
                continue
            notes.append(f"{name} {backend}: failed: {failure}")
    return None


def run_w6(args: argparse.Namespace, sizes: Sizes, progress: Progress,
           notes: list[str]) -> list[dict[str, Any]]:
    events = args.w6_events or sizes.w6_events
    entries = []
    for backend in [b for b in args.backends if b in ("sqlite", "postgres")]:
        problem = backend_problem(backend)
        if problem:
            continue
        progress.context = f"W6 {backend}:"
        entry: dict[str, Any] = {"backend": backend, "events": events}
        libraries = ["eventsourcing"]
        if installed("eventstore_sqlalchemy"):
            libraries.insert(0, "ours")
        for library in libraries:
            tmp = TempDir("bench-w6-") if backend == "sqlite" else None
            try:
                path = tmp.file(f"{library}.sqlite3") if tmp else None
                entry[library] = w6.run(library, backend, events, path, progress)
                progress(f"{library}: {entry[library]}")
            finally:
                if tmp:
                    tmp.cleanup()
        entries.append(entry)
    if "memory" in args.backends:
        notes.append("W6 memory: not measured (an in-memory store holds every event in RAM)")
    return entries


def run_w7(args: argparse.Namespace, sizes: Sizes, progress: Progress,
           notes: list[str]) -> list[Result]:
    """W7 on SQLite and PostgreSQL (processes; see ``w7``)."""
    found: list[Result] = []
    for backend in [b for b in args.backends if b in w7.CONTENDERS]:
        problem = backend_problem(backend)
        if problem:
            notes.append(f"W7 {backend}: not measured, {problem}")
            continue
        progress.context = f"W7 {backend}:"
        try:
            found += w7.w7(backend, sizes, progress, tuple(args.libraries.split(",")))
        except Exception as error:  # one failure must not lose the rest of the run
            notes.append(f"W7 {backend}: failed: {type(error).__name__}: {error}")
    return found


def machine() -> dict[str, Any]:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((line.split(":", 1)[1].strip() for line in out.splitlines()
                      if line.startswith("Model name")), "")
    except OSError:
        pass
    import os

    return {"cpu": model or platform.processor(), "cores": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform()}


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("eventstore-core", "eventstore-sqlalchemy", "eventstore-cassandra",
                 "eventstore-aes", "eventsourcing", "SQLAlchemy", "psycopg", "cassandra-driver",
                 "orjson", "cryptography", "pycryptodome"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if not installed("eventsourcing"):
        raise SystemExit(
            "eventsourcing is not installed: benchmarks/run.sh installs it, or\n"
            "  .venv/bin/pip install 'eventsourcing[postgres,crypto,cryptography]==9.5.6'"
        )
    sizes = QUICK if args.quick else FULL
    if args.pairs:
        sizes = dataclasses.replace(sizes, pairs=args.pairs)
    if args.w7_writers:
        writers = tuple(int(n) for n in args.w7_writers.split(",") if n.strip())
        sizes = dataclasses.replace(sizes, w7_writers=writers)
    if args.w7_seconds:
        sizes = dataclasses.replace(sizes, w7_seconds=args.w7_seconds)
    progress = Progress(enabled=not args.quiet)
    started = datetime.datetime.now(datetime.UTC)
    results: list[Result] = []
    notes: list[str] = []
    if "W4" in args.only:
        for aes in (False, True):
            progress.context = f"W4 {'mapper+AES' if aes else 'mapper'}:"
            results.append(w4(sizes, aes, progress))
    for backend in args.backends:
        results += run_backend(backend, args, sizes, progress, notes)
    w6_entries = run_w6(args, sizes, progress, notes) if "W6" in args.only else []
    if "W7" in args.only:
        results += run_w7(args, sizes, progress, notes)

    found = report.rows(results)
    checks = report.check_targets(found, results, w6_entries)
    table = report.table(found, w6_entries)
    command = "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv)
    print(table)
    print("\nTargets of issue 5 (ratios are speed ratios, above 1 means ours is faster):")
    print(report.targets_text(checks))
    for note in notes:
        print(f"note: {note}")
    report.write_json(args.json, {
        "command": command.strip(), "started": started.isoformat(timespec="seconds"),
        "seconds": round(progress_seconds(started), 1), "machine": machine(),
        "versions": versions(), "sizes": dataclasses.asdict(sizes), "table": table,
        "rows": [r.as_dict() for r in found], "targets": checks, "w6": w6_entries,
        "results": [report.result_dict(r) for r in results], "notes": notes,
    })
    print(f"\nwrote {args.json}")


def progress_seconds(started: datetime.datetime) -> float:
    return (datetime.datetime.now(datetime.UTC) - started).total_seconds()


if __name__ == "__main__":
    main()
