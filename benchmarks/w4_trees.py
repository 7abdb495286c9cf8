"""W4 between two checkouts: the 'ours' mapper of tree A against tree B, A B A B.

    python benchmarks/w4_trees.py /work/main /work/wt/h4 [pairs]

Each tree runs in its own process (its own ``.venv``), started once; the two take turns, one
measurement each, ``pairs`` times. A measurement is the best of 7 passes over 1000 events of
per-thread CPU time (``time.thread_time``: on a shared machine wall time mostly measures the
other jobs). Prints, for plain and AES-GCM encode and decode, each tree's median and the
median of the pair-by-pair ratios B/A.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

WORKER = r'''
import json, sys, time
sys.path.insert(0, ".")
from benchmarks import ours, workload
specs = workload.one_sequence(1000)
setups = {}
for aes in (False, True):
    mapper = ours.mapper(bytes(range(32)) if aes else None)
    events = [ours.make_event(s) for s in specs]
    items = [mapper.to_sequenced_item(e) for e in events]
    assert [mapper.from_sequenced_item(i) for i in items] == events
    setups["aes" if aes else "plain"] = (
        mapper.to_sequenced_item, mapper.from_sequenced_item, events, items)
print("ready", flush=True)
for line in sys.stdin:
    out = {}
    for key, (enc, dec, events, items) in setups.items():
        te = td = 1e9
        for _ in range(7):
            t = time.thread_time(); [enc(e) for e in events]; te = min(te, time.thread_time() - t)
            t = time.thread_time(); [dec(i) for i in items]; td = min(td, time.thread_time() - t)
        out[key + "_encode_us"] = te / len(events) * 1e6
        out[key + "_decode_us"] = td / len(events) * 1e6
    print(json.dumps(out), flush=True)
'''


def main() -> None:
    tree_a, tree_b = Path(sys.argv[1]), Path(sys.argv[2])
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    workers = {}
    for label, tree in (("A", tree_a), ("B", tree_b)):
        worker = subprocess.Popen(
            [str(tree / ".venv/bin/python"), "-c", WORKER], cwd=tree,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        workers[label] = worker

    def measure(label: str) -> dict[str, float]:
        worker = workers[label]
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
        return dict(json.loads(worker.stdout.readline()))

    for label in workers:
        measure(label)  # warm up
    runs: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    for index in range(pairs):
        for label in ("A", "B") if index % 2 == 0 else ("B", "A"):
            runs[label].append(measure(label))
    for worker in workers.values():
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait()
    for key in runs["A"][0]:
        ratios = [b[key] / a[key] for a, b in zip(runs["A"], runs["B"], strict=True)]
        print(f"{key:16s} A {statistics.median(r[key] for r in runs['A']):6.2f} µs  "
              f"B {statistics.median(r[key] for r in runs['B']):6.2f} µs  "
              f"B/A median of {pairs} pair ratios {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
