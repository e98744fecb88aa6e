"""Access logs: one structured line per HTTP request, written by the runtime for every service.

A line names the method, the route template (never the raw path: ids and slugs stay out, and
so do query values, which may hold personal data), the status, the duration to the last byte,
the bytes of the body sent, the request id and, when the caller sent a W3C `traceparent`, its
trace id. Never a body, a header value or a token.

Cached reads answered before the framework (content's fast path) are sampled: a line costs more
than such a read, so only a share of them is written (`ACCESS_LOG_SAMPLE_CACHED`); with the
share at 0 a read pays nothing, otherwise one `random()` comparison."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable

import structlog
from litestar.types import Message, Send

# The request's header fields by lower-case name (request_context.HeaderMap, which imports this).
HeaderMap = dict[bytes, bytes]

log = structlog.get_logger("access")

_TRACEPARENT = b"traceparent"
# version-traceid-parentid-flags (W3C Trace Context §3.2); an all-zero trace id is invalid.
_TRACE_ID = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
_NO_TRACE = "0" * 32
# Requests answered before routing (refused keys, rate limits, preflights) have no template.
UNROUTED = "unrouted"


class AccessLog:
    """`enabled`: whether lines are written at all; `sample_cached`: the share (0 to 1) of
    cached reads answered by the fast path that get a line; `draw` gives the random number
    the share is compared with."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        sample_cached: float = 0.01,
        draw: Callable[[], float] = random.random,
    ) -> None:
        if not 0.0 <= sample_cached <= 1.0:
            raise ValueError(f"sample_cached must lie between 0 and 1, not {sample_cached}")
        self.enabled = enabled
        # 0 when lines are off: the fast path then tests one float and draws nothing.
        self.sample_cached = sample_cached if enabled else 0.0
        self.draw = draw

    def sampled(self) -> bool:
        """Whether this cached read gets a line (ask only when `sample_cached` is not 0)."""
        return self.draw() < self.sample_cached

    def write(
        self,
        *,
        method: str,
        route: str,
        status: int,
        duration: float,
        size: int,
        request_id: str | None,
        headers: HeaderMap,
        trace: str | None = None,
    ) -> None:
        """The line of one request; `duration` in seconds, to its last byte; `trace` the id of
        the trace its server span belongs to, when spans are exported (else the caller's)."""
        log.info(
            "http request",
            method=method,
            route=route,
            status=status,
            duration_ms=round(duration * 1000, 3),
            bytes=size,
            request_id=request_id,
            trace_id=trace or trace_id(headers),
        )

    def sender(self, method: str, send: Send, started: float, headers: HeaderMap) -> Send:
        """`send` that writes the line of an answer sent outside the framework (a refusal, a
        preflight) once its body is sent: such answers have no route template. `started` is
        the request's `time.monotonic()` at arrival."""
        if not self.enabled:
            return send
        status = 500

        async def logging(message: Message) -> None:
            nonlocal status
            await send(message)
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                self.write(
                    method=method,
                    route=UNROUTED,
                    status=status,
                    duration=time.monotonic() - started,
                    size=len(message.get("body", b"")),
                    request_id=None,
                    headers=headers,
                )

        return logging


def trace_id(headers: HeaderMap) -> str | None:
    """The trace id of the request's W3C `traceparent`, or None when it sent no valid one."""
    raw = headers.get(_TRACEPARENT)
    if raw is None:
        return None
    found = _TRACE_ID.match(raw.decode("latin-1"))
    if found is None or found.group(1) == _NO_TRACE:
        return None
    return found.group(1)
