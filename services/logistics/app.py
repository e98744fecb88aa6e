"""Wiring of the logistics service."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

from litestar import Litestar
from litestar.di import Provide

from services.logistics import consumers
from services.logistics.api.bookings import BookingController
from services.logistics.api.incidents import IncidentController
from services.logistics.api.partner_replies import SECURITY_SCHEMES, PartnerReplyController
from services.logistics.api.partners import PartnerController
from services.logistics.usecases import BookingCollaborators, partner_webhooks
from services.logistics.usecases.collaborators import WebhookPolicy
from services.runtime.core.settings import Limit, PositiveFloat, PositiveInt
from services.runtime.messaging.webhooks import Sender, SenderSettings
from services.runtime.privacy.sealing import SealingSettings, sealing_fields
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app
from services.runtime.service.heap import set_aside_after_startup
from services.runtime.service.running import Runtime, RuntimeDependency


class LogisticsSettings(SealingSettings, frozen=True, kw_only=True, rename="upper"):
    encryption_keys: str = sealing_fields("logistics").keys
    active_key: str = sealing_fields("logistics").active
    # Seconds a partner has to accept or decline before the offer goes to the next one.
    offer_timeout: PositiveFloat = 900.0
    # How often the deadline loop looks for unanswered offers, and how many it takes at once.
    deadline_interval: PositiveFloat = 1.0
    deadline_batch: PositiveInt = 100
    # Replies a minute each partner may have applied; the excess comes again later (and is
    # dead-lettered if it keeps coming), so no partner floods logistics. 0: no limit.
    partner_reply_rate_limit: Limit = 600
    # Webhook partners: URLs may name http:// and private addresses (the local stack, tests;
    # never in production, where a partner's URL could reach our own network).
    partner_webhook_allow_private: bool = False
    # Seconds one delivery attempt may take; the first retry's delay (doubling, with jitter, up
    # to the cap); consecutive failures that open a partner's circuit breaker, and for how long.
    partner_webhook_timeout: PositiveFloat = 5.0
    partner_webhook_retry_first: PositiveFloat = 1.0
    partner_webhook_retry_cap: PositiveFloat = 60.0
    partner_webhook_breaker_failures: PositiveInt = 10
    partner_webhook_breaker_cooldown: PositiveFloat = 30.0
    # How often the sender looks for due webhooks.
    partner_webhook_interval: PositiveFloat = 0.25
    # Seconds a withdrawal or erasure notice is retried (an offer: until its deadline).
    partner_webhook_notice_window: PositiveFloat = 86_400.0
    # Seconds a webhook partner's old secret and token keep working after a rotation.
    partner_credential_overlap: PositiveFloat = 86_400.0


DEFINITION = ServiceDefinition(
    name="logistics",
    title="Carebridge logistics API",
    description=(
        "Airport transfer, interpreter and medicine-shipment bookings, dispatched to "
        "partner providers over NATS or signed webhooks (with a reply API for the latter)."
    ),
    default_port=8003,
    migrations=Path(__file__).parent / "migrations",
    route_handlers=(
        BookingController,
        PartnerController,
        IncidentController,
        PartnerReplyController,
    ),
    settings_type=LogisticsSettings,
)


def create_app(settings: LogisticsSettings) -> Litestar:
    timeout = timedelta(seconds=settings.offer_timeout)
    keys = settings.key_ring()
    policy = WebhookPolicy(
        allow_private=settings.partner_webhook_allow_private,
        credential_overlap=timedelta(seconds=settings.partner_credential_overlap),
        notice_window=timedelta(seconds=settings.partner_webhook_notice_window),
    )

    def bookings(runtime: RuntimeDependency) -> BookingCollaborators:
        return BookingCollaborators(
            pool=runtime.pool,
            outbox=runtime.outbox,
            keys=keys,
            offer_timeout=timeout,
            outcomes=runtime.metrics,
            webhooks=policy,
        )

    async def webhooks(runtime: Runtime, stop: asyncio.Event) -> None:
        sender = Sender(
            runtime.pool,
            partner_webhooks.endpoints(bookings(runtime)),
            SenderSettings(
                allow_private=settings.partner_webhook_allow_private,
                timeout=settings.partner_webhook_timeout,
                retry_first=settings.partner_webhook_retry_first,
                retry_cap=settings.partner_webhook_retry_cap,
                breaker_failures=settings.partner_webhook_breaker_failures,
                breaker_cooldown=settings.partner_webhook_breaker_cooldown,
                interval=settings.partner_webhook_interval,
            ),
            keys=keys,
            on_outcome=runtime.metrics.count_webhook,
        )
        await sender.run(stop)

    async def deadlines(runtime: Runtime, stop: asyncio.Event) -> None:
        run = consumers.offer_deadlines(
            bookings(runtime),
            interval=settings.deadline_interval,
            batch=settings.deadline_batch,
        )
        await run(stop)

    async def case_exports(runtime: Runtime, stop: asyncio.Event) -> None:
        await consumers.case_exports(bookings(runtime), runtime.bus)(stop)

    definition = dataclasses.replace(
        DEFINITION,
        subscriptions=lambda runtime: consumers.subscriptions(
            bookings(runtime), reply_limit=settings.partner_reply_rate_limit
        ),
    )
    return create_service_app(
        definition,
        settings,
        dependencies={
            "bookings": Provide(bookings, sync_to_thread=False),
        },
        background=(
            ("offer-deadlines", deadlines),
            ("case-exports", case_exports),
            ("partner-webhooks", webhooks),
        ),
        security_schemes=SECURITY_SCHEMES,
    )


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    settings = DEFINITION.load_settings()
    if not isinstance(settings, LogisticsSettings):  # settings_type above makes this impossible
        raise TypeError(type(settings))
    return set_aside_after_startup(create_app(settings))
