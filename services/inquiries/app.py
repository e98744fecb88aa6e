"""Wiring of the inquiries service."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import msgspec
from litestar import Litestar
from litestar.di import Provide

from services.inquiries.api import SECURITY_SCHEMES, InquiryController
from services.inquiries.booking_timeline import BOOKING_TIMELINE
from services.inquiries.catalogue import CONDITION_CATALOGUE
from services.inquiries.coordinator_api import CoordinatorController
from services.inquiries.erasure import Erasing
from services.inquiries.export import Exporter
from services.inquiries.export_api import ExportController
from services.inquiries.offers import run_expiry
from services.inquiries.privacy_api import PrivacyController
from services.inquiries.retention import Periods, retention_loop
from services.inquiries.retention.api import RetentionController
from services.runtime.core.settings import PositiveFloat
from services.runtime.privacy.sealing import SealingSettings, sealing_fields
from services.runtime.service.definition import Runtime, RuntimeDependency, ServiceDefinition
from services.runtime.service.factory import create_service_app


class InquiriesSettings(SealingSettings, frozen=True, kw_only=True, rename="upper"):
    encryption_keys: str = sealing_fields("inquiries").keys
    active_key: str = sealing_fields("inquiries").active
    # Retention per data class (see services/inquiries/retention), applied every interval
    # seconds: the personal and health data of a case closed longer than this is erased...
    inquiries_retention_days: Annotated[int, msgspec.Meta(ge=1, le=36500)] = 365
    # ...its coordinators' notes and free-text reasons sooner...
    inquiries_free_text_retention_days: Annotated[int, msgspec.Meta(ge=1, le=36500)] = 90
    # ...and the billing stub an erasure keeps, after the accounting period: years after the end
    # of the year of erasure (10: HGB §257(4), AO §147(3)).
    inquiries_billing_retention_years: Annotated[int, msgspec.Meta(ge=1, le=30)] = 10
    inquiries_retention_interval: PositiveFloat = 3600.0
    # How often the scheduler looks for offers past their validity.
    offer_expiry_interval: PositiveFloat = 30.0
    # Seconds the export waits for logistics' part before answering 503.
    logistics_export_timeout: PositiveFloat = 5.0

    def retention_periods(self) -> Periods:
        return Periods(
            personal_data_days=self.inquiries_retention_days,
            free_text_days=self.inquiries_free_text_retention_days,
            billing_years=self.inquiries_billing_retention_years,
        )


DEFINITION = ServiceDefinition(
    name="inquiries",
    title="Carebridge inquiries API",
    description=(
        "Patient treatment inquiries from third-party sites, and the coordinators' case workflow."
    ),
    default_port=8002,
    migrations=Path(__file__).parent / "migrations",
    route_handlers=(
        InquiryController,
        CoordinatorController,
        PrivacyController,
        ExportController,
        RetentionController,
    ),
    subscriptions=lambda _: (CONDITION_CATALOGUE, BOOKING_TIMELINE),
    settings_type=InquiriesSettings,
)


def create_app(settings: InquiriesSettings) -> Litestar:
    keys = settings.key_ring()
    exporter = Exporter(keys=keys, timeout=settings.logistics_export_timeout)
    periods = settings.retention_periods()

    def erasing(runtime: RuntimeDependency) -> Erasing:
        return Erasing(
            outbox=runtime.outbox, keys=keys, billing_retention_years=periods.billing_years
        )

    async def offer_expiry(runtime: Runtime, stop: asyncio.Event) -> None:
        await run_expiry(runtime.pool, runtime.outbox, stop, settings.offer_expiry_interval)

    return create_service_app(
        DEFINITION,
        settings,
        dependencies={
            "keys": Provide(lambda: keys, sync_to_thread=False),
            "exporter": Provide(lambda: exporter, sync_to_thread=False),
            "erasing": Provide(erasing, sync_to_thread=False),
            "retention_periods": Provide(lambda: periods, sync_to_thread=False),
        },
        security_schemes=SECURITY_SCHEMES,
        background=(
            ("offer-expiry", offer_expiry),
            (
                "retention",
                retention_loop(periods, settings.inquiries_retention_interval, keys),
            ),
        ),
    )


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    settings = DEFINITION.load_settings()
    if not isinstance(settings, InquiriesSettings):  # settings_type above makes this impossible
        raise TypeError(type(settings))
    return create_app(settings)
