"""Two versions of the code, alternated: is the new one slower on W1-W3?

    python -m benchmarks.versions OLD_PLUGIN_DIR [--rounds 5] [--only W1,W2,W3]
        [--backends sqlite,postgres]

``OLD_PLUGIN_DIR`` is the ``plugins/sqlalchemy_backend`` folder of the older version (for
example ``git archive OLD_COMMIT plugins/sqlalchemy_backend | tar -x -C /tmp/old``). Each
round runs ``python -m benchmarks --libraries ours --pairs 1`` once with the older plugin
first on ``PYTHONPATH`` and once with this checkout's (A B A B ...); the ratio of each metric
is taken within a round and the median over rounds is printed (above 1: the new code is
faster).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from typing import Any

from .timing import Metric
from .workloads import APPENDS_PER_S, EVENTS_PER_S, LAST10_US, LATENCY_US, READ_PER_S

METRICS = {m.name: m for m in (EVENTS_PER_S, LATENCY_US, READ_PER_S, LAST10_US, APPENDS_PER_S)}


def one_run(plugin_dir: str | None, only: str, backends: str, path: str) -> dict[str, Any]:
    env = dict(os.environ)
    if plugin_dir:
        env["PYTHONPATH"] = os.pathsep.join([plugin_dir, env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "benchmarks", "--libraries", "ours", "--pairs", "1",
               "--only", only, "--backends", backends, "--json", path, "--quiet"]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    with open(path) as f:
        found: dict[str, Any] = json.load(f)
    return found


def values(run: dict[str, Any]) -> dict[tuple[str, str, str], float]:
    found = {}
    for result in run["results"]:
        for rounds in result["rounds"].get("ours", []):
            for name, value in rounds.items():
                if value is not None:
                    found[(result["workload"], result["backend"], name)] = value
    return found


def speed(metric: str, value: float) -> float:
    known: Metric | None = METRICS.get(metric)
    return value if known is None or known.higher_is_better else 1 / value


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.versions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old_plugin_dir")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="W1,W2,W3")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    ratios: dict[tuple[str, str, str], list[float]] = {}
    medians: dict[str, dict[tuple[str, str, str], list[float]]] = {"old": {}, "new": {}}
    with tempfile.TemporaryDirectory(prefix="bench-versions-") as tmp:
        for index in range(args.rounds):
            old = values(one_run(args.old_plugin_dir, args.only, args.backends,
                                 os.path.join(tmp, "old.json")))
            new = values(one_run(None, args.only, args.backends, os.path.join(tmp, "new.json")))
            for key in old.keys() & new.keys():
                ratios.setdefault(key, []).append(speed(key[2], new[key]) / speed(key[2], old[key]))
                medians["old"].setdefault(key, []).append(old[key])
                medians["new"].setdefault(key, []).append(new[key])
            print(f"round {index + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print("| workload | backend | metric | old | new | new/old speed |")
    print("| --- | --- | --- | --- | --- | --- |")
    for key in sorted(ratios):
        old_median = statistics.median(medians["old"][key])
        new_median = statistics.median(medians["new"][key])
        print(f"| {key[0]} | {key[1]} | {key[2]} | {old_median:,.1f} | {new_median:,.1f} | "
              f"{statistics.median(ratios[key]):.2f}x |")


if __name__ == "__main__":
    main()
