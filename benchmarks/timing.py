"""Measuring honestly on a CPU that changes speed: alternate rounds, compare pair by pair.

Each round runs every contender once, one after the other (A B A B ...). A ratio is taken
within each round and the median of those ratios is quoted, so a slow phase of the CPU that
lasts a few seconds moves both sides of a ratio alike. Every timed repetition starts with
``gc.collect()``, for every contender alike.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

Values = dict[str, float]


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    higher_is_better: bool
    #: False for counts that are reported but not compared (W5's conflicts).
    compared: bool = True

    def speed(self, value: float) -> float:
        """A number that is larger when faster, for ratios."""
        if self.higher_is_better:
            return value
        return 1.0 / value if value else float("inf")


def timed(action: Callable[[], T]) -> tuple[float, T]:
    """Seconds taken by ``action()``, after a full garbage collection."""
    gc.collect()
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def alternate(
    labels: Sequence[str],
    run: Callable[[str, int], Values],
    rounds: int,
    progress: Callable[[str], None],
) -> dict[str, list[Values]]:
    """Run ``run(label, round)`` for every label, round after round; values per label."""
    results: dict[str, list[Values]] = {label: [] for label in labels}
    for index in range(rounds):
        for label in labels:
            values = run(label, index)
            results[label].append(values)
            progress(f"round {index + 1}/{rounds} {label:<24} {format_values(values)}")
    return results


def median_ratio(ours: list[Values], theirs: list[Values], metric: Metric) -> float | None:
    """Median over rounds of speed(ours) / speed(theirs): above 1 means ours is faster."""
    ratios = []
    for a, b in zip(ours, theirs, strict=False):
        if metric.name in a and metric.name in b:
            denominator = metric.speed(b[metric.name])
            if denominator:
                ratios.append(metric.speed(a[metric.name]) / denominator)
    return statistics.median(ratios) if ratios else None


def median_value(rounds: list[Values], metric: str) -> float | None:
    values = [r[metric] for r in rounds if metric in r]
    return statistics.median(values) if values else None


def format_values(values: Values) -> str:
    return ", ".join(f"{k}={v:,.1f}" for k, v in values.items())


class Progress:
    """Progress lines on stderr, with the time since the start."""

    def __init__(self, enabled: bool = True) -> None:
        self.start = time.monotonic()
        self.enabled = enabled
        self.context = ""

    def __call__(self, message: str) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.start
            prefix = f"[{elapsed:7.1f}s] {self.context}"
            print(f"{prefix} {message}", file=sys.stderr, flush=True)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def as_json(value: Any) -> Any:
    """Infinity and NaN are not JSON: write them as None."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value
