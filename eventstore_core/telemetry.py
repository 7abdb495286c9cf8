"""Traces and metrics of appends and reads, through OpenTelemetry (the ``otel`` extra).

Where the ``opentelemetry`` package is installed, ``EventStore.append`` and
``EventStore.get_domain_events`` (and so ``get_most_recent_event`` and the repositories
built on them) each run in a span, ``eventstore.append`` or ``eventstore.read``, with the
attributes

* ``eventstore.backend``: the strategy's class, e.g. ``SQLAlchemyActiveRecordStrategy``;
* ``eventstore.sequence_id``: the sequence (for an append spanning several:
  ``eventstore.sequences``, how many);
* ``eventstore.count``: how many events were appended or read;
* ``eventstore.outcome``: ``ok``, ``conflict`` (a ``ConcurrencyError``) or ``error`` (then
  also ``error.type`` and the span's status is an error);

with each event's metadata (stores of ``EnvelopedItem``) given the span's W3C
``traceparent`` (``current_traceparent()``), and add to the counters
``eventstore.events.appended`` and ``eventstore.events.read`` (attributes backend and
outcome) and the histogram ``eventstore.operation.duration``
(seconds; attributes operation, backend, outcome). Spans and metrics go wherever the
application's OpenTelemetry SDK sends them; with no SDK configured they are no-ops.

Where ``opentelemetry`` is not installed, or ``EVENTSTORE_TELEMETRY=off``, nothing is
imported and ``EventStore``'s methods stay as they are: nothing costs anything.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import time
from collections.abc import Callable
from typing import Any

from .streams import Envelope

#: Set to ``off`` (or ``0``, ``false``) to leave the event store uninstrumented.
SWITCH = "EVENTSTORE_TELEMETRY"
INSTRUMENTATION_NAME = "eventstore"


def enabled() -> bool:
    """Whether OpenTelemetry is installed and not switched off (imports nothing)."""
    if os.environ.get(SWITCH, "").strip().lower() in ("off", "0", "false", "no"):
        return False
    try:
        return importlib.util.find_spec("opentelemetry.trace") is not None
    except (ImportError, ValueError):
        return False


def instrument(store_class: Any) -> bool:
    """Wrap ``store_class``'s append and read with spans and metrics, where ``enabled()``.

    Returns whether it did. Safe to call twice (the second call changes nothing).
    """
    if not enabled() or getattr(store_class, "_eventstore_instrumented", False):
        return False
    from opentelemetry import metrics, trace

    tracer = trace.get_tracer(INSTRUMENTATION_NAME)
    meter = metrics.get_meter(INSTRUMENTATION_NAME)
    instruments = _Instruments(
        tracer=tracer,
        status_error=trace.StatusCode.ERROR,
        appended=meter.create_counter(
            "eventstore.events.appended", unit="{event}", description="events appended"),
        read=meter.create_counter(
            "eventstore.events.read", unit="{event}", description="events read"),
        duration=meter.create_histogram(
            "eventstore.operation.duration", unit="s",
            description="time of one append or read"),
    )
    setattr(store_class, "append", _traced_append(store_class.append, instruments))  # noqa: B010
    setattr(store_class, "get_domain_events",  # noqa: B010
            _traced_read(store_class.get_domain_events, instruments))
    setattr(store_class, "_eventstore_instrumented", True)  # noqa: B010
    return True


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the active OpenTelemetry span (what an append adds to each
    event's metadata), or None: no span, or OpenTelemetry not installed or switched off."""
    trace = _trace_api()
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


@functools.cache
def _trace_api() -> Any:
    """``opentelemetry.trace`` where ``enabled()`` (looked up once), else None."""
    if not enabled():
        return None
    from opentelemetry import trace

    return trace


class _Instruments:
    def __init__(self, tracer: Any, status_error: Any, appended: Any, read: Any,
                 duration: Any) -> None:
        self.tracer, self.status_error = tracer, status_error
        self.appended, self.read, self.duration = appended, read, duration


def _backend(store: Any) -> str:
    return type(store.active_record_strategy).__name__


def _outcome(error: BaseException) -> str:
    from .exceptions import ConcurrencyError

    return "conflict" if isinstance(error, ConcurrencyError) else "error"


def _traced_append(append: Callable[..., None], tools: _Instruments) -> Callable[..., None]:
    @functools.wraps(append)
    def traced(self: Any, domain_event_or_events: Any, *args: Any, **kwargs: Any) -> None:
        events = (domain_event_or_events if isinstance(domain_event_or_events, list | tuple)
                  else (domain_event_or_events,))
        backend = _backend(self)
        id_attr = self.sequenced_item_mapper.sequence_id_attr_name
        sequences = {str(getattr(getattr(event, "event", event) if _is_envelope(event)
                                 else event, id_attr, "?")) for event in events}
        attributes: dict[str, Any] = {"eventstore.backend": backend,
                                      "eventstore.count": len(events)}
        if len(sequences) == 1:
            attributes["eventstore.sequence_id"] = next(iter(sequences))
        else:
            attributes["eventstore.sequences"] = len(sequences)
        with tools.tracer.start_as_current_span(
            "eventstore.append", attributes=attributes, record_exception=False,
            set_status_on_exception=False,
        ) as span:
            started = time.perf_counter()
            outcome = "ok"
            try:
                append(self, domain_event_or_events, *args, **kwargs)
            except BaseException as error:
                outcome = _outcome(error)
                _failed(span, error, outcome, tools)
                raise
            finally:
                span.set_attribute("eventstore.outcome", outcome)
                labels = {"backend": backend, "outcome": outcome}
                tools.appended.add(len(events), labels)
                tools.duration.record(time.perf_counter() - started,
                                      {"operation": "append", **labels})

    return traced


def _is_envelope(event: Any) -> bool:
    return type(event) is Envelope


def _traced_read(read: Callable[..., list[Any]], tools: _Instruments) -> Callable[..., list[Any]]:
    @functools.wraps(read)
    def traced(self: Any, originator_id: Any, *args: Any, **kwargs: Any) -> list[Any]:
        backend = _backend(self)
        with tools.tracer.start_as_current_span(
            "eventstore.read",
            attributes={"eventstore.backend": backend,
                        "eventstore.sequence_id": str(originator_id)},
            record_exception=False, set_status_on_exception=False,
        ) as span:
            started = time.perf_counter()
            outcome, count = "ok", 0
            try:
                events = read(self, originator_id, *args, **kwargs)
                count = len(events)
                return events
            except BaseException as error:
                outcome = _outcome(error)
                _failed(span, error, outcome, tools)
                raise
            finally:
                span.set_attribute("eventstore.count", count)
                span.set_attribute("eventstore.outcome", outcome)
                labels = {"backend": backend, "outcome": outcome}
                tools.read.add(count, labels)
                tools.duration.record(time.perf_counter() - started,
                                      {"operation": "read", **labels})

    return traced


def _failed(span: Any, error: BaseException, outcome: str, tools: _Instruments) -> None:
    span.set_attribute("error.type", type(error).__qualname__)
    if outcome == "error":
        span.record_exception(error)
        span.set_status(tools.status_error, type(error).__qualname__)
