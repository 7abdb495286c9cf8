"""Spans and metrics of appends and reads (the ``otel`` extra), checked with the SDK's
in-memory exporter; and nothing at all without the extra.

The SDK runs in a process of its own: OpenTelemetry's global providers can be set once per
process, and the rest of the test session must not record spans.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk.trace", reason="needs the otel extra")

SCENARIOS = r"""
import json, sys
from uuid import uuid4
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

from eventstore_core import ConcurrencyError, DomainEvent, EventStore

def event(sequence, version):
    return DomainEvent(originator_id=sequence, originator_version=version)

results = {}
for name, config in (("memory", "memory://"), ("sqlite", "sqlite:///" + sys.argv[1])):
    store = EventStore.from_config(config)
    exporter.clear()
    a, b = uuid4(), uuid4()
    store.append([event(a, v) for v in range(3)])
    read = len(store.get_domain_events(a, gt=0))
    try:
        store.append(event(a, 0))
    except ConcurrencyError:
        pass
    try:
        store.get_domain_events(a, limit=-1)
    except ValueError:
        pass
    store.append([event(uuid4(), 0) for _ in range(4)])
    store.get_most_recent_event(a)
    results[name] = {
        "sequence": str(a), "read": read,
        "backend": type(store.active_record_strategy).__name__,
        "spans": [{"name": s.name, "attributes": dict(s.attributes),
                   "error": s.status.status_code == trace.StatusCode.ERROR}
                  for s in exporter.get_finished_spans()],
    }
    store.close()
totals = {}
for resource in reader.get_metrics_data().resource_metrics:
    for scope in resource.scope_metrics:
        for metric in scope.metrics:
            for point in metric.data.data_points:
                key = metric.name + " " + json.dumps(dict(point.attributes), sort_keys=True)
                totals[key] = getattr(point, "value", None) or getattr(point, "count", None)
print(json.dumps({"results": results, "metrics": totals}))
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("telemetry") / "t.db"
    done = subprocess.run([sys.executable, "-c", SCENARIOS, str(database)],
                          capture_output=True, text=True, env=_base_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_append_and_read_emit_spans_with_backend_sequence_count_outcome(
    recorded: dict[str, Any], backend: str
) -> None:
    run = recorded["results"][backend]
    append, read, conflict, failed, several, recent = run["spans"]
    assert append == {"name": "eventstore.append", "error": False, "attributes": {
        "eventstore.backend": run["backend"],
        "eventstore.sequence_id": run["sequence"],
        "eventstore.count": 3,
        "eventstore.outcome": "ok",
    }}
    assert run["read"] == 2
    assert read["name"] == "eventstore.read" and not read["error"]
    assert read["attributes"] == {"eventstore.backend": run["backend"],
                                  "eventstore.sequence_id": run["sequence"],
                                  "eventstore.count": 2, "eventstore.outcome": "ok"}
    assert recent["name"] == "eventstore.read" and recent["attributes"]["eventstore.count"] == 1


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_conflict_is_an_outcome_and_an_error_sets_the_span_status(
    recorded: dict[str, Any], backend: str
) -> None:
    _, _, conflict, failed, several, _ = recorded["results"][backend]["spans"]
    assert conflict["attributes"]["eventstore.outcome"] == "conflict"
    assert conflict["attributes"]["error.type"] == "ConcurrencyError"
    assert not conflict["error"]
    assert failed["attributes"]["eventstore.outcome"] == "error"
    assert failed["attributes"]["error.type"] == "InvalidEventError" and failed["error"]
    assert several["attributes"]["eventstore.sequences"] == 4
    assert "eventstore.sequence_id" not in several["attributes"]


def test_counters_add_up_events(recorded: dict[str, Any]) -> None:
    metrics = recorded["metrics"]
    backend = recorded["results"]["memory"]["backend"]

    def total(name: str, **attributes: str) -> Any:
        return metrics[f"{name} {json.dumps(attributes, sort_keys=True)}"]

    assert total("eventstore.events.appended", backend=backend, outcome="ok") == 3 + 4
    assert total("eventstore.events.appended", backend=backend, outcome="conflict") == 1
    assert total("eventstore.events.read", backend=backend, outcome="ok") == 2 + 1
    assert total("eventstore.operation.duration", backend=backend, operation="append",
                 outcome="ok") == 2  # a histogram: two appends timed


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


def test_in_this_process_the_store_is_wrapped_only_where_opentelemetry_is_there() -> None:
    from eventstore_core import EventStore
    from eventstore_core.telemetry import enabled

    assert enabled() == (os.environ.get("EVENTSTORE_TELEMETRY", "") != "off")
    assert getattr(EventStore, "_eventstore_instrumented", False) == enabled()


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "EVENTSTORE_TELEMETRY"}




TRACEPARENT = r"""
import asyncio, json
from uuid import uuid4
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from eventstore_core import (DomainEvent, EnvelopedItem, EventStore,
                             InMemoryActiveRecordStrategy, SequencedItemMapper)
from eventstore_core.aio import AsyncEventStore, AsyncInMemoryActiveRecordStrategy

mapper = SequencedItemMapper(EnvelopedItem, "originator_id", "originator_version")
strategy = InMemoryActiveRecordStrategy(sequenced_item_class=EnvelopedItem)
store = EventStore(mapper, strategy)
astore = AsyncEventStore(mapper, AsyncInMemoryActiveRecordStrategy(store=strategy))
a, b, c = uuid4(), uuid4(), uuid4()
with trace.get_tracer("app").start_as_current_span("handle") as handle:
    store.append(DomainEvent(originator_id=a, originator_version=0), metadata={"user": "u"})
    asyncio.run(astore.append(DomainEvent(originator_id=b, originator_version=0)))
store.append(DomainEvent(originator_id=c, originator_version=0))
finished = exporter.get_finished_spans()
handle = next(s.context for s in finished if s.name == "handle")
append = next(s.context for s in finished if s.name == "eventstore.append")  # the first
print(json.dumps({
    "trace_id": format(handle.trace_id, "032x"),
    "handle": format(handle.span_id, "016x"),
    "append": format(append.span_id, "016x"),
    "flags": format(int(handle.trace_flags), "02x"),
    "sync": store.get_envelopes(a)[0].metadata,
    "async": store.get_envelopes(b)[0].metadata,
    "outside": store.get_envelopes(c)[0].metadata,
}))
"""


def test_an_append_in_a_span_puts_its_traceparent_in_the_metadata() -> None:
    done = subprocess.run([sys.executable, "-c", TRACEPARENT], capture_output=True, text=True,
                          env=_base_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    # the sync append runs in its own span (a child of the application's): its id is sent
    assert got["sync"] == {"user": "u",
                           "traceparent": f"00-{got['trace_id']}-{got['append']}-{got['flags']}"}
    # the async store has no span of its own: the application's
    assert got["async"] == {"traceparent": f"00-{got['trace_id']}-{got['handle']}-{got['flags']}"}
    assert "traceparent" in got["outside"]  # its own append span, in a trace of its own
    assert got["trace_id"] not in got["outside"]["traceparent"]
    assert int(got["flags"], 16) & 1, "sampled"
