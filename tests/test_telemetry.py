"""Spans and metrics of appends and reads (the ``otel`` extra), checked with the SDK's
in-memory exporter; and nothing at all without the extra."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from eventstore_core import ConcurrencyError, DomainEvent, EventStore

trace_sdk = pytest.importorskip("opentelemetry.sdk.trace", reason="needs the otel extra")
from opentelemetry import metrics, trace  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

EXPORTER = InMemorySpanExporter()
READER = InMemoryMetricReader()


@pytest.fixture(scope="module", autouse=True)
def providers() -> None:
    """The SDK, once per process (OpenTelemetry allows one global provider of each)."""
    tracer_provider = trace_sdk.TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "memory":
        made = EventStore.from_config("memory")
    else:
        made = EventStore.from_config("sqlalchemy", uri=f"sqlite:///{tmp_path}/t.db")
    EXPORTER.clear()
    yield made
    made.close()


def spans(name: str) -> list[Any]:
    return [span for span in EXPORTER.get_finished_spans() if span.name == name]


def counter_total(name: str, **attributes: str) -> float:
    data = READER.get_metrics_data()
    total = 0.0
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name != name:
                    continue
                for point in metric.data.data_points:
                    if all(point.attributes.get(k) == v for k, v in attributes.items()):
                        total += point.value
    return total


def test_append_and_read_emit_spans_with_backend_sequence_count_outcome(
    store: EventStore,
) -> None:
    sequence = uuid4()
    store.append([DomainEvent(originator_id=sequence, originator_version=v) for v in range(3)])
    events = store.get_domain_events(sequence, gt=0)
    assert len(events) == 2

    (append,) = spans("eventstore.append")
    backend = type(store.active_record_strategy).__name__
    assert dict(append.attributes) == {
        "eventstore.backend": backend,
        "eventstore.sequence_id": str(sequence),
        "eventstore.count": 3,
        "eventstore.outcome": "ok",
    }
    (read,) = spans("eventstore.read")
    assert read.attributes["eventstore.count"] == 2
    assert read.attributes["eventstore.sequence_id"] == str(sequence)
    assert read.attributes["eventstore.outcome"] == "ok"


def test_a_conflict_is_an_outcome_and_an_error_sets_the_span_status(store: EventStore) -> None:
    sequence = uuid4()
    store.append(DomainEvent(originator_id=sequence, originator_version=0))
    with pytest.raises(ConcurrencyError):
        store.append(DomainEvent(originator_id=sequence, originator_version=0))
    with pytest.raises(ValueError):
        store.get_domain_events(sequence, limit=-1)
    conflict = spans("eventstore.append")[-1]
    assert conflict.attributes["eventstore.outcome"] == "conflict"
    assert conflict.attributes["error.type"] == "ConcurrencyError"
    assert not conflict.status.status_code == trace.StatusCode.ERROR
    failed = spans("eventstore.read")[-1]
    assert failed.attributes["eventstore.outcome"] == "error"
    assert failed.status.status_code == trace.StatusCode.ERROR


def test_an_append_of_several_sequences_counts_them(store: EventStore) -> None:
    if not store.active_record_strategy.capabilities.transactions_across_sequences:
        pytest.skip("one sequence per append on this backend")
    store.append([DomainEvent(originator_id=uuid4(), originator_version=0) for _ in range(4)])
    (append,) = spans("eventstore.append")
    assert append.attributes["eventstore.sequences"] == 4
    assert "eventstore.sequence_id" not in append.attributes


def test_counters_add_up_events() -> None:
    store = EventStore.from_config("memory")
    backend = type(store.active_record_strategy).__name__
    before = counter_total("eventstore.events.appended", backend=backend, outcome="ok")
    read_before = counter_total("eventstore.events.read", backend=backend)
    sequence = uuid4()
    store.append([DomainEvent(originator_id=sequence, originator_version=v) for v in range(5)])
    store.get_domain_events(sequence)
    store.get_most_recent_event(sequence)
    assert counter_total("eventstore.events.appended", backend=backend, outcome="ok") == \
        before + 5
    assert counter_total("eventstore.events.read", backend=backend) == read_before + 6


BLOCK_OTEL = """
import sys
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'opentelemetry':
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Missing())
"""

CHECK_NOTHING = """
import uuid
from eventstore_core import DomainEvent, EventStore
store = EventStore.from_config('memory')
store.append(DomainEvent(originator_id=uuid.uuid4(), originator_version=0))
assert not any(m.split('.')[0] == 'opentelemetry' for m in sys.modules), 'imported'
assert not getattr(EventStore, '_eventstore_instrumented', False)
assert EventStore.append.__module__ == 'eventstore_core.eventstore'
print('untouched')
"""


@pytest.mark.parametrize("how", ["not installed", "switched off"])
def test_without_the_extra_nothing_is_imported_or_wrapped(how: str) -> None:
    code = (BLOCK_OTEL if how == "not installed" else "import sys\n") + CHECK_NOTHING
    env = {"EVENTSTORE_TELEMETRY": "off"} if how == "switched off" else {}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**_base_env(), **env}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "untouched"


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "EVENTSTORE_TELEMETRY"}
