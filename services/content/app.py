"""Wiring of the content service."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import structlog
from litestar import Litestar
from litestar.di import Provide
from nats.aio.msg import Msg

from contracts.content import content_event_decoder
from services.content.cache import DocumentCache
from services.content.delivery_api import DeliveryController
from services.content.editorial_api import EditorialController, PreviewController
from services.content.fast_reads import cached_reads
from services.content.preview import PreviewSigner
from services.content.usecases import publish_due
from services.runtime.core.pacing import wait_any
from services.runtime.core.settings import PositiveFloat, PositiveInt, ServiceSettings
from services.runtime.service.definition import Runtime, ServiceDefinition
from services.runtime.service.factory import create_service_app

log = structlog.get_logger(__name__)


class ContentSettings(ServiceSettings, frozen=True, kw_only=True, rename="upper"):
    # Signs preview links. Replicas must share it; unset, each process makes its own.
    preview_secret: str = ""
    preview_ttl: PositiveInt = 900
    schedule_interval: PositiveFloat = 5.0
    cache_entries: PositiveInt = 10_000


DEFINITION = ServiceDefinition(
    name="content",
    title="Carebridge content API",
    description=(
        "Localised medical content (conditions, treatments, service offerings) for "
        "third-party sites, and the editorial workflow behind it."
    ),
    default_port=8001,
    migrations=Path(__file__).parent / "migrations",
    route_handlers=(DeliveryController, EditorialController, PreviewController),
    settings_type=ContentSettings,
)


def create_app(settings: ContentSettings) -> Litestar:
    cache = DocumentCache(settings.cache_entries)
    secret = settings.preview_secret.encode() or secrets.token_bytes(32)
    signer = PreviewSigner(secret, settings.preview_ttl)

    async def scheduler(runtime: Runtime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await publish_due(runtime.pool, runtime.outbox, now=datetime.now(UTC))
            await wait_any(stop, timeout=settings.schedule_interval)

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

    return create_service_app(
        DEFINITION,
        settings,
        dependencies={
            "cache": Provide(lambda: cache, sync_to_thread=False),
            "signer": Provide(lambda: signer, sync_to_thread=False),
        },
        background=(("publish-scheduler", scheduler), ("cache-invalidation", invalidate_caches)),
        ready=cached_reads(cache),
    )


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    settings = DEFINITION.load_settings()
    if not isinstance(settings, ContentSettings):  # settings_type above makes this impossible
        raise TypeError(type(settings))
    return create_app(settings)
