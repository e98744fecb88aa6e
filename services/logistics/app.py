"""Wiring of the logistics service."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from litestar import Litestar
from litestar.di import Provide

from contracts.exports import CaseExportFailed, case_export_request_decoder
from contracts.registry import CASE_EXPORT
from services.logistics import consumers
from services.logistics.api import BookingController, PartnerController
from services.logistics.incidents_api import IncidentController
from services.logistics.usecases import Dispatch, expire_due_offers
from services.logistics.usecases.export import export_case
from services.runtime.core.pacing import wait_any
from services.runtime.core.settings import PositiveFloat, PositiveInt
from services.runtime.messaging.request_reply import answer
from services.runtime.privacy.sealing import SealingSettings, sealing_fields
from services.runtime.service.definition import Runtime, RuntimeDependency, ServiceDefinition
from services.runtime.service.factory import create_service_app


class LogisticsSettings(SealingSettings, frozen=True, kw_only=True, rename="upper"):
    encryption_keys: str = sealing_fields("logistics").keys
    active_key: str = sealing_fields("logistics").active
    # Seconds a partner has to accept or decline before the offer goes to the next one.
    offer_timeout: PositiveFloat = 900.0
    # How often the deadline loop looks for unanswered offers, and how many it takes at once.
    deadline_interval: PositiveFloat = 1.0
    deadline_batch: PositiveInt = 100


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

    def dispatch(runtime: RuntimeDependency) -> Dispatch:
        return Dispatch(outbox=runtime.outbox, offer_timeout=timeout, keys=keys)

    async def deadlines(runtime: Runtime, stop: asyncio.Event) -> None:
        """Deadlines live in the database, so they survive restarts; replicas share them."""
        d = dispatch(runtime)
        while not stop.is_set():
            claimed = await expire_due_offers(
                runtime.pool, d, now=datetime.now(UTC), limit=settings.deadline_batch
            )
            if claimed < settings.deadline_batch:
                await wait_any(stop, timeout=settings.deadline_interval)

    async def case_exports(runtime: Runtime, stop: asyncio.Event) -> None:
        await answer(
            runtime.bus,
            CASE_EXPORT,
            case_export_request_decoder,
            lambda request: export_case(runtime.pool, keys, request),
            lambda reason: CaseExportFailed(reason=reason),
            stop,
        )

    definition = dataclasses.replace(
        DEFINITION, subscriptions=lambda runtime: consumers.subscriptions(dispatch(runtime))
    )
    return create_service_app(
        definition,
        settings,
        dependencies={
            "dispatch": Provide(dispatch, sync_to_thread=False),
            "keys": Provide(lambda: keys, sync_to_thread=False),
        },
        background=(("offer-deadlines", deadlines), ("case-exports", case_exports)),
    )


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    settings = DEFINITION.load_settings()
    if not isinstance(settings, LogisticsSettings):  # settings_type above makes this impossible
        raise TypeError(type(settings))
    return create_app(settings)
