"""The doors that are not HTTP: the cache invalidation every replica listens with, and the timer
that publishes scheduled documents when they fall due."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import msgspec
from nats.aio.msg import Msg

from contracts.content import content_event_decoder
from services.content.cache import DocumentCache
from services.content.usecases.editorial import publish_due
from services.runtime.core.pacing import wait_any
from services.runtime.service.definition import Runtime
from services.runtime.service.factory import BackgroundLoop


def cache_invalidation(cache: DocumentCache) -> BackgroundLoop:
    async def invalidate_caches(runtime: Runtime, stop: asyncio.Event) -> None:
        """Every replica hears every content event (a plain subscription, not a shared
        consumer) and drops what it names; after a reconnect it may have missed some, so it
        drops everything."""

        async def on_event(msg: Msg) -> None:
            try:
                event = content_event_decoder.decode(msg.data)
            except msgspec.DecodeError:
                cache.clear()
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


def publish_scheduler(interval: float) -> BackgroundLoop:
    async def scheduler(runtime: Runtime, stop: asyncio.Event) -> None:
        """Schedules live in the database, so they survive restarts; replicas share them."""
        while not stop.is_set():
            await publish_due(runtime.pool, runtime.outbox, now=datetime.now(UTC))
            await wait_any(stop, timeout=interval)

    return scheduler
