"""W1-W4 of this project on two source trees, alternated A B A B, each run in a fresh process.

    python benchmarks/ab_versions.py --base /tmp/base-tree [--head .] [--pairs 5]
        [--backends memory,sqlite] [--sizes quick|full]

``--base`` is an unpacked earlier commit (``git archive <commit> | tar -x -C DIR``); its
``eventstore_core`` and SQLAlchemy plugin are put first on ``PYTHONPATH`` of the processes
that measure it, the head tree's of the others (the timing code is the same for both). Prints,
per workload, backend and figure (µs of process CPU time, best of 3 passes in each process), the
median of each tree and the median of the pair-by-pair ratios, oriented so that above 1 means
the head is faster. Only this project is
measured (no other library is needed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def child(backends: list[str], sizes_name: str) -> dict[str, float]:
    """One run of W1-W4 on ``backends`` in this process: figure name -> µs per event (per
    call for last10), each the best of 3 passes of process CPU time (on a shared machine
    wall time mostly measures the other jobs)."""
    from benchmarks import ours, workload

    sizes = workload.QUICK if sizes_name == "quick" else workload.FULL
    out: dict[str, float] = {}

    def best(action: Any, per: int, setup: Any = None) -> float:
        times = []
        for _ in range(3):
            if setup is not None:
                setup()
            started = time.process_time()
            action()
            times.append(time.process_time() - started)
        return min(times) / per * 1e6

    for backend in backends:
        side: Any = ours.MemorySide() if backend == "memory" else ours.SQLiteSide()
        try:
            batches = [side.make_events(b) for b in workload.w1_batches(sizes)]
            count = sum(map(len, batches))
            out[f"W1 {backend} append 100 (us/event)"] = best(
                lambda: [side.append(b) for b in batches], count, side.reset)  # noqa: B023
            singles = [[e] for e in side.make_events(workload.w2_events(sizes))]
            out[f"W2 {backend} append 1 (us/event)"] = best(
                lambda: [side.append(one) for one in singles], len(singles),  # noqa: B023
                side.reset)
            specs = workload.one_sequence(sizes.w3_events)
            side.reset()
            for i in range(0, len(specs), 100):
                side.append(side.make_events(specs[i:i + 100]))
            sequence_id = specs[0].sequence_id
            out[f"W3 {backend} read whole (us/event)"] = best(
                lambda: side.read_sequence(sequence_id), len(specs))  # noqa: B023
            calls = sizes.w3_last_calls // 4
            out[f"W3 {backend} last 10 (us/call)"] = best(
                lambda: [side.read_last(sequence_id, 10) for _ in range(calls)],  # noqa: B023
                calls)
        finally:
            side.close()
    mapper = ours.mapper()
    events = [ours.make_event(spec) for spec in workload.one_sequence(sizes.w4_events)]
    items = [mapper.to_sequenced_item(e) for e in events]
    to_item, from_item = mapper.to_sequenced_item, mapper.from_sequenced_item
    out["W4 mapper encode (us/event)"] = best(lambda: [to_item(e) for e in events],
                                              len(events))
    out["W4 mapper decode (us/event)"] = best(lambda: [from_item(i) for i in items],
                                              len(items))
    return out


def run_tree(tree: Path, backends: list[str], sizes: str) -> dict[str, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tree), str(tree / "plugins" / "sqlalchemy_backend"), str(HERE.parent)])
    env["EVENTSTORE_TELEMETRY"] = env.get("EVENTSTORE_TELEMETRY", "off")
    done = subprocess.run(
        [sys.executable, str(HERE / "ab_versions.py"), "--child", "--backends",
         ",".join(backends), "--sizes", sizes],
        env=env, capture_output=True, text=True, check=False, cwd=str(tree))
    if done.returncode:
        raise SystemExit(f"run on {tree} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def lower_is_better(name: str) -> bool:
    return "(us/" in name


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path)
    parser.add_argument("--head", type=Path, default=HERE.parent)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--backends", default="memory,sqlite")
    parser.add_argument("--sizes", choices=("quick", "full"), default="quick")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    if args.child:
        print(json.dumps(child(backends, args.sizes)))
        return
    if args.base is None:
        parser.error("--base is required")
    rounds: dict[str, list[dict[str, float]]] = {"base": [], "head": []}
    for pair in range(args.pairs):
        order = ("base", "head") if pair % 2 == 0 else ("head", "base")
        for name in order:
            tree = args.base if name == "base" else args.head
            rounds[name].append(run_tree(tree.resolve(), backends, args.sizes))
        print(f"pair {pair + 1}/{args.pairs} done", file=sys.stderr)
    print(f"{'figure':<40} {'base':>12} {'head':>12} {'speed head/base':>16}")
    for figure in rounds["base"][0]:
        base = [r[figure] for r in rounds["base"]]
        head = [r[figure] for r in rounds["head"]]
        ratios = [(b / h if lower_is_better(figure) else h / b) for b, h in zip(base, head,
                                                                                strict=True)]
        print(f"{figure:<40} {statistics.median(base):>12.2f} {statistics.median(head):>12.2f}"
              f" {statistics.median(ratios):>16.3f}")
    print("speed head/base: median of pair-by-pair ratios, above 1 = head faster")


if __name__ == "__main__":
    main()
