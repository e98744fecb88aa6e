"""One trace across HTTP and NATS: W3C trace context (`traceparent`, `tracestate`) read from
requests, kept with each outbox row, carried on every event as the CloudEvents
distributed-tracing extension (`ce-traceparent`, `ce-tracestate`) and continued by whoever
handles it. Spans are exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise
no provider is installed and OpenTelemetry's API does nothing but pass a caller's context on."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import msgspec
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from contracts.envelope import Metadata, trace_context

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

# Explicit rather than the global propagator: OTEL_PROPAGATORS must not change the wire format
# of our events.
_PROPAGATOR = TraceContextTextMapPropagator()
# A proxy: it follows the provider `configure` installs, whenever that happens.
tracer = trace.get_tracer("carebridge")


class _Exporting:
    """The provider this process exports spans with, once `configure` installed one."""

    provider: TracerProvider | None = None


_exporting = _Exporting()


class TraceContext(msgspec.Struct, frozen=True):
    """(traceparent, tracestate) as carried on an event, checked as `Metadata` checks them;
    both None when there is no trace."""

    traceparent: str | None = None
    tracestate: str | None = None

    @classmethod
    def of(cls, traceparent: str | None, tracestate: str | None = None) -> TraceContext:
        return cls(**trace_context(traceparent, tracestate))

    @classmethod
    def of_event(cls, meta: Metadata) -> TraceContext:
        return cls(meta.traceparent, meta.tracestate)

    @property
    def trace_id(self) -> str | None:
        return None if self.traceparent is None else self.traceparent[3:35]

    def carrier(self) -> dict[str, str]:
        found = {}
        if self.traceparent is not None:
            found[TRACEPARENT] = self.traceparent
            if self.tracestate is not None:
                found[TRACESTATE] = self.tracestate
        return found

    def context(self) -> Context | None:
        return _PROPAGATOR.extract(self.carrier()) if self.traceparent is not None else None


NO_TRACE = TraceContext()


def configure(service: str, endpoint: str | None) -> bool:
    """Export this process's spans to `endpoint` (an OTLP/HTTP collector's base URL) as
    `service`; nothing when `endpoint` is None. Once per process: the provider is global.
    Returns whether spans are exported."""
    if not endpoint:
        return False
    if _exporting.provider is not None:
        return True
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces"))
    )
    trace.set_tracer_provider(provider)
    _exporting.provider = provider
    return True


def exporting() -> bool:
    return _exporting.provider is not None


def shutdown() -> None:
    """Send what is still buffered; at the end of the process's life."""
    if _exporting.provider is not None:
        _exporting.provider.shutdown()


def current() -> TraceContext:
    """The context of the span now current, to carry on what is sent from here."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return TraceContext.of(carrier.get(TRACEPARENT), carrier.get(TRACESTATE))


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


@contextmanager
def continued(
    parent: TraceContext,
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    *,
    attributes: Mapping[str, str] | None = None,
    links: Sequence[TraceContext] = (),
) -> Iterator[Span]:
    """A span, current until the block ends, continuing `parent` (a trace carried on a message
    or kept with a case); a new trace when `parent` holds none and spans are exported."""
    link_list = [
        Link(trace.get_current_span(c).get_span_context())
        for c in (link.context() for link in links)
        if c is not None
    ]
    with tracer.start_as_current_span(
        name,
        context=parent.context() or Context(),
        kind=kind,
        attributes=dict(attributes or {}),
        links=link_list,
    ) as span:
        yield span


def started(
    parent: TraceContext,
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, str] | None = None,
) -> Span:
    """A span continuing `parent` that the caller ends; not made current (for work done on
    many messages at once, such as the relay's pipelined publishes)."""
    return tracer.start_span(
        name, context=parent.context() or Context(), kind=kind, attributes=dict(attributes or {})
    )


def messaging_attributes(subject: str, event_id: str | None) -> dict[str, str]:
    """OpenTelemetry's messaging attributes; never the body, which may hold personal data."""
    attributes = {"messaging.system": "nats", "messaging.destination.name": subject}
    if event_id is not None:
        attributes["messaging.message.id"] = event_id
    return attributes


@contextmanager
def joined(parent: TraceContext, name: str) -> Iterator[None]:
    """Work done for something that has its own trace (a case, from its submission): the block
    joins that trace, in a span linked to the trace now current (the coordinator's request
    that acted on it). Within the trace already (a partner's reply to the case's own offer),
    nothing changes."""
    if parent.traceparent is None or parent.trace_id == current_trace_id():
        yield
        return
    with continued(parent, name, links=[current()]):
        yield
