"""The doors that are not HTTP: the cache invalidation every replica listens with, and the timer
that publishes scheduled documents when they fall due."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

import msgspec
import structlog
from nats.aio.msg import Msg

from contracts.content import content_event_decoder
from contracts.envelope import CE_ID
from services.content.cache import DocumentCache
from services.content.usecases.editorial import publish_due
from services.runtime.core.outages import TRANSIENT
from services.runtime.core.pacing import wait_any
from services.runtime.messaging import dead_letters
from services.runtime.service.factory import BackgroundLoop
from services.runtime.service.running import Runtime

log = structlog.get_logger(__name__)


def cache_invalidation(cache: DocumentCache) -> BackgroundLoop:
    async def invalidate_caches(runtime: Runtime, stop: asyncio.Event) -> None:
        """Every replica hears every content event (a plain subscription, not a shared
        consumer) and drops what it names; after a reconnect (the client's own reconnect
        callback, nothing a message can trigger) it may have missed some, so it drops
        everything. A message that is no content event is kept as a dead letter and changes
        nothing: clearing the cache for it would let anyone who can publish there flush every
        replica's cache at will."""

        async def on_event(msg: Msg) -> None:
            try:
                event = content_event_decoder.decode(msg.data)
            except msgspec.DecodeError as exc:
                await _keep_undecodable(runtime, msg, str(exc))
                return
            slugs = {event.slug, *getattr(event, "previous_slugs", ())}
            cache.invalidate(event.kind, slugs)

        runtime.bus.on_reconnect(cache.clear)
        subscription = await runtime.bus.nc.subscribe(runtime.bus.subject("content.>"), cb=on_event)
        try:
            await stop.wait()
        finally:
            await subscription.unsubscribe()

    return invalidate_caches


# The dead letters of the invalidation listener: not a durable consumer, so a replay of one is
# refused ("no longer exists in this service") rather than applied.
INVALIDATION_LISTENER = "content-cache-invalidation"


async def _keep_undecodable(runtime: Runtime, msg: Msg, error: str) -> None:
    headers = dict(msg.headers or {})
    # Every replica hears the message: one id per payload keeps it one dead letter.
    event_id = headers.get(CE_ID) or "sha256:" + hashlib.sha256(msg.data).hexdigest()
    log.warning("undecodable content event kept", subject=msg.subject, size=len(msg.data))
    try:
        async with runtime.pool.acquire() as conn:
            await dead_letters.insert_dead_letter(
                conn,
                consumer=INVALIDATION_LISTENER,
                subject=runtime.bus.unprefix(msg.subject),
                event_id=event_id,
                headers=headers,
                payload=msg.data,
                error=f"undecodable message: {error}",
                attempts=1,
            )
    except TRANSIENT:
        # PostgreSQL away: the warning above is the record; the cache is right either way.
        log.warning("undecodable content event not stored", subject=msg.subject)


def publish_scheduler(interval: float, *, review_required: bool) -> BackgroundLoop:
    async def scheduler(runtime: Runtime, stop: asyncio.Event) -> None:
        """Schedules live in the database, so they survive restarts; replicas share them."""
        while not stop.is_set():
            await publish_due(
                runtime.pool, runtime.outbox, review_required=review_required, now=datetime.now(UTC)
            )
            await wait_any(stop, timeout=interval)

    return scheduler
