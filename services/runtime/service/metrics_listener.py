"""`/metrics` on a port of its own (`METRICS_PORT`), off the public API port: per-route counts of
submissions, refusals, admin actions and open dead letters are for the operator's scraper, not
for anyone who can reach the API. Granian serves one app per process, so this small listener
runs in the app's lifespan, on the same event loop, and answers `GET /metrics` and nothing else.

A port that cannot be bound is logged as an error and the service runs on: a scrape target that
disappears raises the monitoring's own alert, while refusing to start would stop patients'
traffic for an operator's concern."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from prometheus_client import CONTENT_TYPE_LATEST

log = structlog.get_logger(__name__)

# A scraper's request head fits many times over; a slow or endless one is cut off.
_MAX_HEAD = 8192
_READ_TIMEOUT = 5.0
Page = Callable[[], Awaitable[bytes]]


async def start_metrics_listener(host: str, port: int, page: Page) -> asyncio.Server | None:
    """Serve `page()` at GET /metrics on host:port; None when the port cannot be bound."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT)
            method, _, rest = head[:_MAX_HEAD].partition(b" ")
            target = rest.partition(b" ")[0].partition(b"?")[0]
            if target != b"/metrics":
                await _send(writer, b"404 Not Found", b"text/plain", b"not found\n", method)
            elif method not in (b"GET", b"HEAD"):
                await _send(writer, b"405 Method Not Allowed", b"text/plain", b"GET only\n", method)
            else:
                await _send(writer, b"200 OK", CONTENT_TYPE_LATEST.encode(), await page(), method)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # a client that went away or never finished asking: nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    try:
        server = await asyncio.start_server(answer, host, port, limit=_MAX_HEAD)
    except OSError:
        log.exception("metrics listener not started", host=host, port=port)
        return None
    log.info("metrics listener ready", host=host, port=port)
    return server


async def _send(
    writer: asyncio.StreamWriter, status: bytes, media_type: bytes, body: bytes, method: bytes
) -> None:
    writer.write(
        b"HTTP/1.1 %s\r\ncontent-type: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
        % (status, media_type, len(body))
    )
    if method != b"HEAD":
        writer.write(body)
    await writer.drain()


def bound_port(server: asyncio.Server | None) -> int | None:
    if server is None or not server.sockets:
        return None
    port: int = server.sockets[0].getsockname()[1]
    return port
