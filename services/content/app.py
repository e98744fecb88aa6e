"""Wiring of the content service."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from litestar import Litestar
from litestar.di import Provide

from services.content import consumers
from services.content.api.delivery import DeliveryController
from services.content.api.editorial import EditorialController
from services.content.api.fast_reads import cached_reads
from services.content.api.parameters import ReviewPolicy
from services.content.api.preview import PreviewController
from services.content.api.preview_tokens import PreviewSigner
from services.content.api.reviews import ReviewController
from services.content.api.site_webhooks import SiteWebhookController, SiteWebhooks
from services.content.cache import DEFAULT_BYTES, DocumentCache
from services.content.clock import Clock
from services.content.usecases import site_webhooks
from services.runtime.core.settings import PositiveFloat, PositiveInt, ServiceSettings
from services.runtime.messaging.webhooks import Sender, SenderSettings
from services.runtime.privacy.crypto import KeyRing, key_ring_setting
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app
from services.runtime.service.heap import set_aside_after_startup
from services.runtime.service.running import Runtime


class ContentSettings(ServiceSettings, frozen=True, kw_only=True, rename="upper"):
    # Reads are short and use the database's CPU alone: one worker keeps about two in flight
    # (Little's law at its 1,000-1,500 searches/s of 1 ms each). Ten let ten queries share
    # the database's cores, where the scheduler's turns, not the pool's queue, decide who waits:
    # uncached search p99 35-100 ms at 16 connections, against 18-25 ms with four, at the same
    # rate (2 cores, docs/performance.md).
    db_pool_max: PositiveInt = 4
    # Signs preview links. Replicas must share it; unset, each process makes its own.
    preview_secret: str = ""
    preview_ttl: PositiveInt = 900
    schedule_interval: PositiveFloat = 5.0
    # Bytes the delivery cache holds per replica (every content coding of every answer).
    content_cache_bytes: PositiveInt = DEFAULT_BYTES
    # A medical document is published only with a medical reviewer's sign-off of the revision.
    # The local stack turns it off, so its unreviewed sample content can be published.
    content_require_review: bool = True
    # Seals sites' webhook signing secrets ("id:key,…" as the other services' rings); unset,
    # sites cannot register webhooks.
    content_encryption_keys: str = ""
    # Sites' webhook URLs may use http:// and private addresses (local stack, tests only).
    site_webhook_allow_private: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self.site_keys()  # a bad ring stops the start, naming the variable

    def site_keys(self) -> KeyRing | None:
        if not self.content_encryption_keys:
            return None
        return key_ring_setting("CONTENT_ENCRYPTION_KEYS", self.content_encryption_keys, "")


DEFINITION = ServiceDefinition(
    name="content",
    title="Carebridge content API",
    description=(
        "Localised medical content (conditions, treatments, service offerings) for "
        "third-party sites, and the editorial workflow behind it."
    ),
    default_port=8001,
    migrations=Path(__file__).parent / "migrations",
    route_handlers=(
        DeliveryController,
        EditorialController,
        ReviewController,
        PreviewController,
        SiteWebhookController,
    ),
    settings_type=ContentSettings,
    # Reads need PostgreSQL and the cache only: a NATS outage degrades invalidation, not reads.
    ready_needs_nats=False,
)


def create_app(settings: ContentSettings, clock: Clock | None = None) -> Litestar:
    """`clock`: the time reads and editorial commands go by (the system's unless given)."""
    clock = clock or Clock()
    cache = DocumentCache(settings.content_cache_bytes, clock.seconds)
    secret = settings.preview_secret.encode() or secrets.token_bytes(32)
    signer = PreviewSigner(secret, settings.preview_ttl)
    hooks = SiteWebhooks(
        keys=settings.site_keys(), allow_private=settings.site_webhook_allow_private
    )

    async def site_webhook_sender(runtime: Runtime, stop: asyncio.Event) -> None:
        sender = Sender(
            runtime.pool,
            site_webhooks.endpoints(hooks.keys),
            SenderSettings(allow_private=hooks.allow_private),
            on_outcome=runtime.metrics.count_webhook,
        )
        await sender.run(stop)

    return create_service_app(
        DEFINITION,
        settings,
        dependencies={
            "cache": Provide(lambda: cache, sync_to_thread=False),
            "signer": Provide(lambda: signer, sync_to_thread=False),
            "clock": Provide(lambda: clock, sync_to_thread=False),
            "review_policy": Provide(
                lambda: ReviewPolicy(required=settings.content_require_review),
                sync_to_thread=False,
            ),
            "site_webhooks_config": Provide(lambda: hooks, sync_to_thread=False),
        },
        background=(
            (
                "publish-scheduler",
                consumers.publish_scheduler(
                    settings.schedule_interval, review_required=settings.content_require_review
                ),
            ),
            ("cache-invalidation", consumers.cache_invalidation(cache)),
            ("site-webhooks", site_webhook_sender),
        ),
        ready=cached_reads(cache),
    )


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    settings = DEFINITION.load_settings()
    if not isinstance(settings, ContentSettings):  # settings_type above makes this impossible
        raise TypeError(type(settings))
    return set_aside_after_startup(create_app(settings))
