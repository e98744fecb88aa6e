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
from services.logistics.api.partners import PartnerController
from services.logistics.usecases import BookingCollaborators
from services.runtime.core.settings import Limit, PositiveFloat, PositiveInt
from services.runtime.privacy.sealing import SealingSettings, sealing_fields
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app
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


DEFINITION = ServiceDefinition(
    name="logistics",
    title="Carebridge logistics API",
    description=(
        "Airport transfer, interpreter and medicine-shipment bookings, dispatched to "
        "partner providers over NATS."
    ),
    default_port=8003,
    migrations=Path(__file__).parent / "migrations",
    route_handlers=(BookingController, PartnerController, IncidentController),
    settings_type=LogisticsSettings,
)


def create_app(settings: LogisticsSettings) -> Litestar:
    timeout = timedelta(seconds=settings.offer_timeout)
    keys = settings.key_ring()

    def bookings(runtime: RuntimeDependency) -> BookingCollaborators:
        return BookingCollaborators(
            pool=runtime.pool,
            outbox=runtime.outbox,
            keys=keys,
            offer_timeout=timeout,
            outcomes=runtime.metrics,
        )

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
        background=(("offer-deadlines", deadlines), ("case-exports", case_exports)),
    )


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    settings = DEFINITION.load_settings()
    if not isinstance(settings, LogisticsSettings):  # settings_type above makes this impossible
        raise TypeError(type(settings))
    return create_app(settings)
