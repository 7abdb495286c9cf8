"""The table, the targets of the issue, and the JSON file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from .timing import Metric, as_json, median_ratio, median_value
from .workloads import Result

OURS = "ours"


def theirs_labels(result: Result) -> list[str]:
    return [label for label in result.rounds if label.startswith("eventsourcing")]


def best_raw(result: Result, metric: Metric) -> str | None:
    """The raw variant with the best median for the metric (e.g. COPY or executemany)."""
    raws = [label for label in result.rounds if label.startswith("raw")]
    medians = {r: median_value(result.rounds[r], metric.name) for r in raws}
    found = {r: m for r, m in medians.items() if m is not None}
    if not found:
        return None
    return max(found, key=lambda r: metric.speed(found[r]))


@dataclass
class Row:
    workload: str
    backend: str
    metric: Metric
    ours: float | None
    theirs: float | None
    theirs_label: str | None
    raw: float | None
    raw_label: str | None
    vs_theirs: float | None
    vs_raw: float | None
    raw_choices: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload, "backend": self.backend, "metric": self.metric.name,
            "unit": self.metric.unit, "ours": as_json(self.ours),
            "eventsourcing": as_json(self.theirs), "eventsourcing_label": self.theirs_label,
            "raw": as_json(self.raw), "raw_label": self.raw_label,
            "ours_vs_eventsourcing": as_json(self.vs_theirs),
            "ours_vs_raw": as_json(self.vs_raw),
        }


def rows(results: list[Result]) -> list[Row]:
    found = []
    for result in results:
        theirs_all: list[str | None] = [*theirs_labels(result)] or [None]
        for metric in result.metrics:
            raw_label = best_raw(result, metric)
            for index, theirs in enumerate(theirs_all):
                backend = result.backend if index == 0 else f"{result.backend} vs {theirs}"
                ours_rounds = result.rounds.get(OURS, [])
                theirs_rounds = result.rounds.get(theirs, []) if theirs else []
                raw_rounds = result.rounds.get(raw_label, []) if raw_label else []
                found.append(Row(
                    result.workload, backend, metric,
                    median_value(ours_rounds, metric.name),
                    median_value(theirs_rounds, metric.name), theirs,
                    median_value(raw_rounds, metric.name) if index == 0 else None,
                    raw_label if index == 0 else None,
                    median_ratio(ours_rounds, theirs_rounds, metric)
                    if theirs and metric.compared else None,
                    median_ratio(ours_rounds, raw_rounds, metric)
                    if index == 0 and raw_label and metric.compared else None,
                    sum(label.startswith("raw") for label in result.rounds),
                ))
    return found


def number(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


W6_FIGURES = (
    ("peak_mb", "peak RSS (MB)"),
    ("iterate_events_per_s", "iterate all, paged (events/s)"),
    ("read_events_per_s", "read sequence, paged (events/s)"),
)


def table(found: list[Row], w6: list[dict[str, Any]]) -> str:
    header = ["workload", "backend", "metric", "ours", "eventsourcing", "raw driver",
              "ours/es", "ours/raw"]
    lines = [header]
    for r in found:
        raw = number(r.raw)
        if r.raw_label and r.raw_choices > 1:
            raw += f" ({r.raw_label.removeprefix('raw:')})"
        lines.append([r.workload, r.backend, f"{r.metric.name} ({r.metric.unit})",
                      number(r.ours), number(r.theirs), raw, ratio(r.vs_theirs),
                      ratio(r.vs_raw)])
    for entry in w6:
        theirs = entry.get("eventsourcing") or {}
        ours = entry.get("ours") or {}
        for key, what in W6_FIGURES:
            a, b = ours.get(key), theirs.get(key)
            speed = a / b if a and b and key != "peak_mb" else None
            lines.append(["W6", entry["backend"], what, number(a), number(b), "-", ratio(speed),
                          "-"])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths,
                                                                     strict=True)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


# -- targets ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    workload: str
    backend: str
    metric: str
    against: str  # "eventsourcing" or "raw"
    at_least: float  # speed ratio ours/against
    text: str


TARGETS = [
    Target("W1", "sqlite", "events_per_s", "eventsourcing", 2.5, "W1 SQLite >= 2.5x eventsourcing"),
    Target("W1", "postgres", "events_per_s", "eventsourcing", 3.0,
           "W1 PostgreSQL >= 3x eventsourcing"),
    Target("W1", "sqlite", "events_per_s", "raw", 0.7, "W1 SQLite >= 0.7x raw sqlite3"),
    Target("W1", "postgres", "events_per_s", "raw", 0.7, "W1 PostgreSQL >= 0.7x raw best"),
    Target("W2", "sqlite", "median_latency_us", "raw", 1 / 1.3,
           "W2 SQLite latency within 1.3x raw"),
    Target("W2", "postgres", "median_latency_us", "raw", 1 / 1.3,
           "W2 PostgreSQL latency within 1.3x raw"),
    Target("W3", "sqlite", "read_events_per_s", "eventsourcing", 3.0,
           "W3 SQLite read >= 3x eventsourcing"),
    Target("W3", "postgres", "read_events_per_s", "eventsourcing", 3.0,
           "W3 PostgreSQL read >= 3x eventsourcing"),
    Target("W3", "sqlite", "last10_us", "raw", 0.5, "W3 SQLite last-10 within 2x raw"),
    Target("W3", "postgres", "last10_us", "raw", 0.5, "W3 PostgreSQL last-10 within 2x raw"),
    Target("W4", "mapper", "encode_us", "eventsourcing", 2.5, "W4 encode >= 2.5x eventsourcing"),
    Target("W4", "mapper", "decode_us", "eventsourcing", 2.0, "W4 decode >= 2x eventsourcing"),
    Target("W4", "mapper+AES", "encode_us", "eventsourcing", 10.0,
           "W4 AES encode >= 10x eventsourcing"),
    Target("W4", "mapper+AES", "decode_us", "eventsourcing", 10.0,
           "W4 AES decode >= 10x eventsourcing"),
    Target("W5", "memory", "appends_per_s", "eventsourcing", 1.5, "W5 memory >= 1.5x POPO"),
    Target("W5", "sqlite", "appends_per_s", "eventsourcing", 1.5,
           "W5 SQLite >= 1.5x eventsourcing"),
    Target("W5", "postgres", "appends_per_s", "eventsourcing", 1.5,
           "W5 PostgreSQL >= 1.5x eventsourcing"),
    *[Target("W7", f"postgres, {n} writers", "events_per_s", against, ratio,
             f"W7 PostgreSQL {n} writers >= {ratio}x {against}")
      for n in (8, 16) for against, ratio in (("eventsourcing", 1.5), ("raw", 0.6))],
    Target("W1", "cassandra", "events_per_s", "raw", 0.8, "Cassandra W1 >= 0.8x raw driver"),
    Target("W3", "cassandra", "read_events_per_s", "raw", 0.8,
           "Cassandra W3 read >= 0.8x raw driver"),
]

W6_LIMIT_MB = 150.0


def check_targets(
    found: list[Row], results: list[Result], w6: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    checks = []
    for target in TARGETS:
        row = next((r for r in found if (r.workload, r.backend, r.metric.name)
                    == (target.workload, target.backend, target.metric)), None)
        if row is None:
            continue
        value = row.vs_theirs if target.against == "eventsourcing" else row.vs_raw
        if value is None:
            continue
        checks.append({
            "target": target.text, "ratio": value, "needed": target.at_least,
            "met": value >= target.at_least,
            "short_by": None if value >= target.at_least else 1 - value / target.at_least,
        })
    for result in results:
        if result.workload == "W5":
            for label, extra in result.extra.items():
                clean = bool(extra.get("check_clean_every_time"))
                checks.append({"target": f"W5 {result.backend} {label}: check clean every time",
                               "ratio": None, "needed": None, "met": clean, "short_by": None})
    for entry in w6:
        for library in ("ours", "eventsourcing"):
            peak = (entry.get(library) or {}).get("peak_mb")
            if peak is not None:
                checks.append({"target": f"W6 {entry['backend']} {library} peak < 150 MB",
                               "ratio": peak, "needed": W6_LIMIT_MB, "met": peak < W6_LIMIT_MB,
                               "short_by": None if peak < W6_LIMIT_MB
                               else peak / W6_LIMIT_MB - 1})
    return checks


def targets_text(checks: list[dict[str, Any]]) -> str:
    lines = []
    for c in checks:
        mark = "met " if c["met"] else "MISS"
        detail = ""
        if c["ratio"] is not None and c["needed"] is not None:
            detail = f" ({c['ratio']:.2f} vs {c['needed']:.2f}"
            detail += ")" if c["met"] else f", short by {c['short_by']:.0%})"
        lines.append(f"  [{mark}] {c['target']}{detail}")
    return "\n".join(lines)


def write_json(path: str, payload: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=1, default=as_json)
        f.write("\n")


def result_dict(result: Result) -> dict[str, Any]:
    return {
        "workload": result.workload, "backend": result.backend,
        "metrics": [m.name for m in result.metrics],
        "rounds": {label: [{k: as_json(v) for k, v in values.items()} for values in rounds]
                   for label, rounds in result.rounds.items()},
        "extra": result.extra, "note": result.note,
    }
