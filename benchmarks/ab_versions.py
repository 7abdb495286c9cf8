"""W1-W4 of this project on two source trees, alternated A B A B, each run in a fresh process.

    python benchmarks/ab_versions.py --base /tmp/base-tree [--head .] [--pairs 5]
        [--backends memory,sqlite] [--sizes quick|full]

``--base`` is an unpacked earlier commit (``git archive <commit> | tar -x -C DIR``); its
``eventstore_core`` and SQLAlchemy plugin are put first on ``PYTHONPATH`` of the processes
that measure it, the head tree's of the others (the timing code is the same for both). Prints,
per workload, backend and figure, the median of each tree and the median of the pair-by-pair
ratios head/base, oriented so that above 1 means the head is faster. Only this project is
measured (no other library is needed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def child(backends: list[str], sizes_name: str) -> dict[str, float]:
    """One run of W1-W4 on ``backends`` in this process: figure name -> value."""
    from benchmarks import ours, workload, workloads
    from benchmarks.timing import timed

    sizes = workload.QUICK if sizes_name == "quick" else workload.FULL
    sizes = type(sizes)(**{**sizes.__dict__, "pairs": 1})
    quiet = lambda _message: None  # noqa: E731
    out: dict[str, float] = {}
    for backend in backends:
        side: Any = ours.MemorySide() if backend == "memory" else ours.SQLiteSide()
        try:
            for run in (workloads.w1, workloads.w2, workloads.w3):
                result = run(backend, [side], sizes, quiet)
                for values in result.rounds[side.label]:
                    for name, value in values.items():
                        out[f"{result.workload} {backend} {name}"] = value
        finally:
            side.close()
    # W4: the mapper alone, encode then decode
    mapper = ours.mapper()
    events = [ours.make_event(spec) for spec in workload.one_sequence(sizes.w4_events)]
    to_item, from_item = mapper.to_sequenced_item, mapper.from_sequenced_item
    def decode(items: list[Any]) -> list[Any]:
        return [from_item(i) for i in items]

    for _ in range(2):  # warm up, then the timed pass
        seconds, items = timed(lambda: [to_item(e) for e in events])
        decode_seconds, _ = timed(lambda: decode(items))  # noqa: B023 (called at once)
    out["W4 mapper encode_per_s"] = len(events) / seconds
    out["W4 mapper decode_per_s"] = len(events) / decode_seconds
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
    return name.endswith("_us")


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
    print(f"{'figure':<40} {'base':>12} {'head':>12} {'head/base':>10}")
    for figure in rounds["base"][0]:
        base = [r[figure] for r in rounds["base"]]
        head = [r[figure] for r in rounds["head"]]
        ratios = [(b / h if lower_is_better(figure) else h / b) for b, h in zip(base, head,
                                                                                strict=True)]
        print(f"{figure:<40} {statistics.median(base):>12.1f} {statistics.median(head):>12.1f}"
              f" {statistics.median(ratios):>10.3f}")
    print("head/base: median of pair-by-pair ratios, above 1 = head faster")


if __name__ == "__main__":
    main()
