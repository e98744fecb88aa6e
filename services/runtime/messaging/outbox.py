"""Transactional outbox: `emit` writes the event beside the state change in the caller's
transaction; the relay publishes committed rows to JetStream and deletes them.

At-least-once by construction: a row is deleted only in the transaction that published it, so a
crash after publishing re-publishes the row, and `Nats-Msg-Id` lets the stream drop the copy.

An event that names a person (emitted with an erasure key) is sealed with the service's key ring
in its row, like the service's own tables: until the relay publishes it (milliseconds, or as
long as NATS is away) a database dump, a backup or the WAL holds it encrypted only."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import msgspec
import structlog
from nats.errors import Error as NatsError
from nats.js.api import PubAck
from opentelemetry.trace import Span, SpanKind

from contracts.envelope import (
    CE_ID,
    CE_TRACEPARENT,
    CE_TRACESTATE,
    CE_TYPE,
    Event,
    Metadata,
    event_type,
)
from services.runtime.core import tracing
from services.runtime.core.db import Connection, Pool
from services.runtime.core.outages import TRANSIENT
from services.runtime.core.pacing import Backoff, wait_any
from services.runtime.core.tracing import TraceContext
from services.runtime.messaging import stream_copies
from services.runtime.messaging.bus import Bus
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

# What the relay's loops wait out and retry: NATS or PostgreSQL away, restarting or refusing
# (a restart closes pooled connections with InterfaceError, which is no PostgresError).
OUTAGES: tuple[type[Exception], ...] = (NatsError, asyncpg.PostgresError, *TRANSIENT)

log = structlog.get_logger(__name__)


class OutboxRow(msgspec.Struct, frozen=True):
    seq: int
    subject: str
    headers: dict[str, str]
    payload: bytes
    erasure_key: str | None = None
    sealed: bool = False

    def body(self, keys: KeyRing | None) -> bytes:
        """The payload as published: a sealed one opened with the service's keys."""
        if not self.sealed:
            return self.payload
        if keys is None:
            raise RuntimeError("a sealed outbox row needs the service's key ring to publish")
        return keys.decrypt(from_column(self.payload), aad=payload_aad(self.headers[CE_ID]))


class Outbox:
    """Writes events of one service (its `source`) into the outbox of the connection's schema."""

    def __init__(self, *, source: str, schema: str, keys: KeyRing | None = None) -> None:
        self.source = source
        self.channel = notify_channel(schema)
        self.keys = keys

    async def emit(
        self,
        conn: Connection,
        subject: str,
        event: Event,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        erasure_key: str | None = None,
    ) -> str:
        """Queue `event` for `subject` in the caller's transaction; returns its event id.

        Correlation and causation default to the ids bound for the current request or message.
        An event that names a person carries an `erasure_key` (the inquiry id): erasing the
        person retracts it from the outbox or its stream (`stream_copies.retract`)."""
        context = structlog.contextvars.get_contextvars()
        # Kept with the row, so the relay's publish and every handler continue this trace.
        traced = tracing.current()
        meta = Metadata(
            id=str(uuid.uuid4()),
            type=event_type(type(event)),
            source=self.source,
            time=datetime.now(UTC),
            correlation_id=correlation_id or context.get("correlation_id"),
            causation_id=causation_id or context.get("causation_id"),
            traceparent=traced.traceparent,
            tracestate=traced.tracestate,
        )
        payload, sealed = msgspec.json.encode(event), False
        if erasure_key is not None and self.keys is not None:
            payload = to_column(self.keys.encrypt(payload, aad=payload_aad(meta.id)))
            sealed = True
        # The NOTIFY goes in the same statement, a round trip fewer per event. It is delivered
        # only when the transaction commits, so the relay never wakes for a rollback.
        await conn.execute(
            """WITH queued AS (
                   INSERT INTO outbox (id, subject, headers, payload, erasure_key, sealed)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   RETURNING id
               )
               SELECT pg_notify($7, '') FROM queued""",
            uuid.UUID(meta.id),
            subject,
            msgspec.json.encode(meta.headers()).decode(),
            payload,
            erasure_key,
            sealed,
            self.channel,
        )
        return meta.id

    async def retract(self, conn: Connection, erasure_key: str) -> None:
        """In the caller's (erasing) transaction: the events emitted with `erasure_key` leave
        the outbox, or their streams once the relay wakes to delete them."""
        await stream_copies.retract(conn, erasure_key)
        # Also wakes the relay for scans requested in this transaction (`scan_for`).
        await conn.execute("SELECT pg_notify($1, '')", self.channel)


def current_correlation_id() -> str | None:
    """The correlation id bound for the request or message being handled, if any."""
    found = structlog.contextvars.get_contextvars().get("correlation_id")
    return found if isinstance(found, str) else None


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


def payload_aad(event_id: str) -> bytes:
    return f"outbox:{event_id}:payload".encode()


async def claim_batch(conn: Connection, limit: int) -> list[OutboxRow]:
    rows = await conn.fetch(
        """SELECT seq, subject, headers, payload, erasure_key, sealed FROM outbox
           ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [
        OutboxRow(
            r["seq"],
            r["subject"],
            msgspec.json.decode(r["headers"]),
            r["payload"],
            r["erasure_key"],
            r["sealed"],
        )
        for r in rows
    ]


async def delete_rows(conn: Connection, seqs: list[int]) -> None:
    await conn.execute("DELETE FROM outbox WHERE seq = ANY($1::bigint[])", seqs)


async def count_backlog(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox"))


async def oldest_age(conn: Connection) -> float:
    """Seconds the oldest unpublished event has waited; 0 when none waits. A backlog that is
    steady but old means the relay is stuck, which a count alone does not show."""
    return float(
        await conn.fetchval(
            "SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox"
        )
    )


async def publish_rows(
    bus: Bus, rows: list[OutboxRow], keys: KeyRing | None = None
) -> list[PubAck]:
    """Publish with acknowledgement. Publishes are pipelined on one connection, which keeps
    their order; any failure fails the batch, and the retry is deduplicated by the stream."""
    return await asyncio.gather(
        *(bus.js.publish(bus.subject(r.subject), r.body(keys), headers=r.headers) for r in rows)
    )


def _publish_spans(rows: list[OutboxRow]) -> list[Span]:
    """A producer span per row, continuing the trace kept with it; none when nothing is
    exported (the relay's hot loop then pays nothing)."""
    if not tracing.exporting():
        return []
    return [
        tracing.started(
            TraceContext.of(r.headers.get(CE_TRACEPARENT), r.headers.get(CE_TRACESTATE)),
            f"publish {r.subject}",
            SpanKind.PRODUCER,
            tracing.messaging_attributes(r.subject, r.headers.get(CE_ID)),
        )
        for r in rows
    ]


class Relay:
    """Publishes one schema's outbox. Safe to run in every replica: rows are claimed with
    SKIP LOCKED, so replicas share the backlog and never publish a row concurrently.

    Order: rows are published in sequence order within a batch, but a batch that fails midway
    is retried whole and replicas interleave batches, so consumers must not rely on arrival
    order; events carry what they need to order themselves (revisions, versions)."""

    def __init__(
        self,
        pool: Pool,
        bus: Bus,
        *,
        schema: str,
        batch_size: int,
        poll_interval: float,
        listen_dsn: str | None = None,
        on_published: Callable[[int], None] = lambda _: None,
        on_erase_failed: Callable[[], None] = lambda: None,
        keys: KeyRing | None = None,
        on_event: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.pool = pool
        self.keys = keys
        self.bus = bus
        self.channel = notify_channel(schema)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        # LISTEN runs on a connection of its own, outside the pool: it is held for the relay's
        # lifetime and must not starve requests of pool slots.
        self.listen_dsn = listen_dsn
        self.on_published = on_published
        self.on_erase_failed = on_erase_failed
        # Rounds of publishing that met an outage and were put off: what the relay did while
        # NATS or PostgreSQL was away, read by whoever watches it (and the tests).
        self.rounds_put_off = 0
        # Told each published event's CloudEvents type (a bounded set: one per contract).
        self.on_event = on_event
        self._wake = asyncio.Event()
        # Deleting copies (stream_copies) runs beside publishing, woken by the same commits.
        self._erase_wake = asyncio.Event()
        self._listener: asyncpg.Connection[asyncpg.Record] | None = None
        self._forgot_at = -math.inf

    async def publish_pending(self) -> int:
        """Publish until the outbox is empty; returns how many rows were published."""
        total = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                rows = await claim_batch(conn, self.batch_size)
                if not rows:
                    return total
                spans = _publish_spans(rows)
                try:
                    acks = await publish_rows(self.bus, rows, self.keys)
                finally:
                    for span in spans:
                        span.end()
                await stream_copies.remember(
                    conn, [(r.erasure_key, ack) for r, ack in zip(rows, acks, strict=True)]
                )
                await delete_rows(conn, [r.seq for r in rows])
            total += len(rows)
            self.on_published(len(rows))
            for row in rows:
                self.on_event(row.headers.get(CE_TYPE, "unknown"))

    async def run(self, stop: asyncio.Event) -> None:
        """Publish, and beside it delete the copies erasure asks for: two loops, so a delete
        that keeps failing (or a long scan) never holds up an event."""
        try:
            async with asyncio.TaskGroup() as loops:
                loops.create_task(self._publish(stop))
                loops.create_task(self._erase(stop))
        finally:
            # Also when cancelled: nothing of the relay may outlive it.
            await self._stop_listening()

    async def _publish(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        while not stop.is_set():
            self._wake.clear()
            try:
                await self._ensure_listening()
                await self.publish_pending()
            except OUTAGES as exc:
                delay = backoff.next()
                self.rounds_put_off += 1
                log.warning(
                    "outbox relay retrying", error=type(exc).__name__, retry_in=round(delay, 2)
                )
                # Only stop ends the wait: NOTIFYs during an outage would defeat the backoff.
                await wait_any(stop, timeout=delay)
                continue
            backoff.reset()
            await wait_any(stop, self._wake, timeout=self.poll_interval)

    async def _erase(self, stop: asyncio.Event) -> None:
        backoff = Backoff(cap=stream_copies.RETRY_CAP)
        while not stop.is_set():
            self._erase_wake.clear()
            try:
                unfinished = await stream_copies.delete_retracted(
                    self.pool, self.bus, batch=self.batch_size
                )
                if time.monotonic() - self._forgot_at >= stream_copies.FORGET_EVERY:
                    await stream_copies.forget_aged(self.pool)
                    self._forgot_at = time.monotonic()
            except stream_copies.EraseFailed as exc:
                # Not an outage to wait out: a grant or a stream setting is wrong, and personal
                # data stays in a stream until an operator fixes it. Say so, every time.
                delay = backoff.next()
                # The error names the stream and the server's answer; a traceback adds nothing.
                log.error(  # noqa: TRY400
                    "stream copies not erased", error=str(exc), retry_in=round(delay, 2)
                )
                self.on_erase_failed()
                try:
                    await stream_copies.record_failure(self.pool, str(exc))
                except (OSError, TimeoutError, asyncpg.PostgresError) as db_exc:
                    log.warning("erase failure not recorded", error=type(db_exc).__name__)
                await wait_any(stop, timeout=delay)
                continue
            except OUTAGES as exc:
                delay = backoff.next()
                log.warning(
                    "stream copies erasure retrying",
                    error=type(exc).__name__,
                    retry_in=round(delay, 2),
                )
                await wait_any(stop, timeout=delay)
                continue
            backoff.reset()
            if not unfinished:
                await wait_any(stop, self._erase_wake, timeout=self.poll_interval)

    async def _ensure_listening(self) -> None:
        """LISTEN for commits; if the connection is lost, polling carries on until it is back."""
        if self.listen_dsn is None or (
            self._listener is not None and not self._listener.is_closed()
        ):
            return
        await self._stop_listening()
        try:
            self._listener = await asyncpg.connect(self.listen_dsn)
            await self._listener.add_listener(self.channel, self._on_notify)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("outbox listener unavailable, polling", error=type(exc).__name__)
            await self._stop_listening()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()
        self._erase_wake.set()

    async def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            listener.terminate()
