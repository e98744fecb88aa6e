"""One trace through the real stack (`make run` with OTEL_EXPORTER_OTLP_ENDPOINT set), proved at
a real OTLP/HTTP receiver: a site's submission (with its own `traceparent`), the coordinator's
confirmation hours later, the booking request, the offer to the partner, the partner's answer
and the patient's timeline are spans of the trace the submission started."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.e2e.local_stack import QUICK_PARTNERS, Stacks
from tests.e2e.test_walkthrough import CONFIRMATION, OFFER, Walk, until

pytestmark = pytest.mark.e2e

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@dataclass(frozen=True)
class Received:
    service: str
    name: str
    kind: int
    trace_id: str
    links: tuple[str, ...]


class Collector:
    """An OTLP/HTTP trace receiver (protobuf), as a collector is: it keeps every span."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                collector.add(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, request: ExportTraceServiceRequest) -> None:
        with self.lock:
            for resource_spans in request.resource_spans:
                service = next(
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                )
                for scope in resource_spans.scope_spans:
                    self.spans.extend(
                        Received(
                            service=service,
                            name=s.name,
                            kind=s.kind,
                            trace_id=s.trace_id.hex(),
                            links=tuple(link.trace_id.hex() for link in s.links),
                        )
                        for s in scope.spans
                    )

    def of_trace(self, trace_id: str) -> list[Received]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]


@pytest.fixture
def collector() -> Iterator[Collector]:
    collector = Collector()
    thread = threading.Thread(target=collector.server.serve_forever, daemon=True)
    thread.start()
    yield collector
    collector.server.shutdown()


@pytest.fixture
def stack(tmp_path: Path, collector: Collector) -> Iterator[dict[str, Any]]:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        # Spans leave each process within 0.2 s rather than 5 s.
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        **QUICK_PARTNERS,
    }
    stacks = Stacks(tmp_path, env=env)
    try:
        manifest, _ = stacks.wait_ready(stacks.start())
        yield manifest
    finally:
        stacks.cleanup()


# OTLP span kinds (opentelemetry.proto.trace.v1.Span.SpanKind).
INTERNAL, SERVER, PRODUCER, CONSUMER = 1, 2, 4, 5
PARTNER = "rhein-shuttle"


def test_one_trace_follows_a_case_from_submission_to_partner_and_back(
    stack: dict[str, Any], collector: Collector
) -> None:
    walk = Walk(stack)
    walk.inquiries.headers["traceparent"] = TRACEPARENT
    submitted = until(walk.submit, "the inquiry is accepted")
    inquiry_id = submitted["id"]
    # The coordinator's requests are traces of their own.
    del walk.inquiries.headers["traceparent"]
    walk.claim(inquiry_id)
    walk.step(inquiry_id, "transitions", {"to": "in_review"})
    walk.step(inquiry_id, "offers", OFFER)
    walk.step(inquiry_id, "offers/1/accept")
    walk.step(inquiry_id, "confirmation", CONFIRMATION)

    def confirmed_on_the_timeline() -> bool:
        timeline = walk.patient_view(submitted)["timeline"]
        return any(
            e["kind"] == "booking" and e["detail"]["to_status"] == "confirmed" for e in timeline
        )

    until(confirmed_on_the_timeline, "a booking confirmed on the patient's timeline")

    def the_whole_way() -> list[Received] | None:
        spans = collector.of_trace(TRACE_ID)
        seen = {(s.service, s.kind, s.name) for s in spans}
        wanted = {
            ("inquiries", SERVER, "POST /v1/inquiries"),  # the submission
            # The coordinator's confirmation, joining the case's trace.
            ("inquiries", INTERNAL, "inquiries case change"),
            ("inquiries", PRODUCER, "publish inquiries.inquiry.confirmed.v1"),
            ("logistics", CONSUMER, "process inquiries.inquiry.confirmed.v1"),
            # The offer to the partner, and its answer, from the partner's process.
            ("logistics", PRODUCER, f"publish partners.{PARTNER}.offers.transfer"),
            ("logistics", CONSUMER, f"process partners.{PARTNER}.replies"),
            ("logistics", PRODUCER, "publish logistics.booking.status_changed.v1"),
            # The booking's progress: the patient's timeline, and her notification.
            ("inquiries", CONSUMER, "process logistics.booking.status_changed.v1"),
            ("notifications", CONSUMER, "process logistics.booking.status_changed.v1"),
        }
        return spans if wanted <= seen else None

    try:
        until(the_whole_way, "the spans of the whole way in one trace", timeout=30)
    finally:
        print(
            sorted({(s.service, s.kind, s.name, s.trace_id == TRACE_ID) for s in collector.spans})
        )
    spans = collector.of_trace(TRACE_ID)
    # The confirmation joined the case's trace from a trace of its own, linked to it.
    joined = [s for s in spans if s.name == "inquiries case change"]
    assert joined
    assert all(s.links and s.links[0] != TRACE_ID for s in joined)
    # Server spans are named by route template: no ids, no query (which may name a condition).
    server = {s.name for s in collector.spans if s.kind == SERVER}
    assert "GET /v1/coordinator/inquiries/{inquiry_id}" in server, server
    assert not any(inquiry_id in name or "?" in name for name in server), server
