"""The trace context on events: carried as the CloudEvents distributed-tracing extension,
checked where it comes from outside, passed on even when no spans are exported, and a case's
trace joined from another trace with a link to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contracts.envelope import CE_TRACEPARENT, CE_TRACESTATE, Metadata, metadata_from_headers
from services.runtime.core import tracing
from services.runtime.core.tracing import NO_TRACE, TraceContext

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
OTHER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _meta(**extra: str | None) -> Metadata:
    return Metadata(id="e-1", type="t", source="/s", time=datetime.now(UTC), **extra)  # type: ignore[arg-type]


def test_the_trace_context_travels_as_ce_headers_and_back() -> None:
    headers = _meta(traceparent=PARENT, tracestate="vendor=1").headers()

    assert headers[CE_TRACEPARENT] == PARENT
    assert headers[CE_TRACESTATE] == "vendor=1"
    read = metadata_from_headers(headers)
    assert (read.traceparent, read.tracestate) == (PARENT, "vendor=1")


def test_an_event_without_a_trace_has_no_trace_headers() -> None:
    headers = _meta().headers()

    assert CE_TRACEPARENT not in headers
    assert CE_TRACESTATE not in headers
    assert metadata_from_headers(headers).traceparent is None


@pytest.mark.parametrize(
    "traceparent",
    [
        "not-a-trace",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\nX-Evil: 1",
        PARENT + "-extra",
        "",
    ],
)
def test_a_malformed_traceparent_from_outside_is_dropped_with_its_state(traceparent: str) -> None:
    headers = {**_meta().headers(), CE_TRACEPARENT: traceparent, CE_TRACESTATE: "a=b"}

    read = metadata_from_headers(headers)

    assert (read.traceparent, read.tracestate) == (None, None)


def test_an_oversized_tracestate_is_dropped_and_the_parent_kept() -> None:
    read = TraceContext.of(PARENT, "a=" + "x" * 600)

    assert read == TraceContext(PARENT, None)
    assert read.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_without_an_exporter_a_handler_passes_the_parent_on() -> None:
    assert not tracing.exporting()
    with tracing.continued(TraceContext.of(PARENT), "process x"):
        passed_on = tracing.current()

    # No span of ours: the same parent goes on, so a downstream exporter still joins the trace.
    assert passed_on.traceparent == PARENT
    assert tracing.current() == NO_TRACE


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans recorded in memory by a provider of the test's own (not the process's global)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    original = tracing.tracer
    tracing.tracer = provider.get_tracer("test")
    yield exporter
    tracing.tracer = original


def test_a_handler_continues_the_trace_its_event_carries(spans: InMemorySpanExporter) -> None:
    with tracing.continued(TraceContext.of(PARENT), "process x", trace.SpanKind.CONSUMER):
        emitted = tracing.current()

    (span,) = spans.get_finished_spans()
    assert format(span.context.trace_id, "032x") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert span.kind == trace.SpanKind.CONSUMER
    # What the handler emits carries its span, in the same trace.
    assert emitted.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert emitted.traceparent != PARENT


def test_work_on_a_case_joins_its_trace_and_links_the_request(
    spans: InMemorySpanExporter,
) -> None:
    with (
        tracing.continued(TraceContext.of(OTHER), "POST /confirmation"),
        tracing.joined(TraceContext.of(PARENT), "case change"),
    ):
        emitted = tracing.current()

    joined = next(s for s in spans.get_finished_spans() if s.name == "case change")
    assert emitted.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert [format(link.context.trace_id, "032x") for link in joined.links] == [
        "0af7651916cd43dd8448eb211c80319c"
    ]


def test_work_within_the_case_trace_adds_no_span(spans: InMemorySpanExporter) -> None:
    with tracing.continued(TraceContext.of(PARENT), "process reply"):
        with tracing.joined(TraceContext.of(PARENT), "case change"):
            pass
        with tracing.joined(NO_TRACE, "case change"):
            pass

    assert [s.name for s in spans.get_finished_spans()] == ["process reply"]
