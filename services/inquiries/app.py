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
from services.inquiries.offers import run_expiry
from services.inquiries.privacy_api import PrivacyController
from services.inquiries.retention import retention_loop
from services.runtime.crypto import KeyRing, key_ring_setting
from services.runtime.service import create_service_app
from services.runtime.settings import PositiveFloat, ServiceSettings
from services.runtime.state import Runtime, ServiceDefinition


class InquiriesSettings(ServiceSettings, frozen=True, kw_only=True, rename="upper"):
    # "k1:<base64url 32 bytes>,k2:…": every key still needed to read old rows; the active one
    # (the last, unless named) encrypts new ones. Never logged.
    inquiries_encryption_keys: str
    inquiries_active_key: str = ""
    # Personal data of a case closed longer than this is purged, checked every interval seconds.
    inquiries_retention_days: Annotated[int, msgspec.Meta(ge=1, le=36500)] = 365
    inquiries_retention_interval: PositiveFloat = 3600.0
    # How often the scheduler looks for offers past their validity.
    offer_expiry_interval: PositiveFloat = 30.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.key_ring()

    def outbox_keys(self) -> KeyRing:
        return self.key_ring()

    def key_ring(self) -> KeyRing:
        return key_ring_setting(
            "INQUIRIES_ENCRYPTION_KEYS", self.inquiries_encryption_keys, self.inquiries_active_key
        )


DEFINITION = ServiceDefinition(
    name="inquiries",
    title="Carebridge inquiries API",
    description=(
        "Patient treatment inquiries from third-party sites, and the coordinators' case workflow."
    ),
    default_port=8002,
    migrations=Path(__file__).parent / "migrations",
    route_handlers=(InquiryController, CoordinatorController, PrivacyController),
    subscriptions=lambda _: (CONDITION_CATALOGUE, BOOKING_TIMELINE),
    settings_type=InquiriesSettings,
)


def create_app(settings: InquiriesSettings) -> Litestar:
    keys = settings.key_ring()

    async def offer_expiry(runtime: Runtime, stop: asyncio.Event) -> None:
        await run_expiry(runtime.pool, runtime.outbox, stop, settings.offer_expiry_interval)

    return create_service_app(
        DEFINITION,
        settings,
        dependencies={"keys": Provide(lambda: keys, sync_to_thread=False)},
        security_schemes=SECURITY_SCHEMES,
        background=(
            ("offer-expiry", offer_expiry),
            (
                "retention",
                retention_loop(
                    settings.inquiries_retention_days, settings.inquiries_retention_interval
                ),
            ),
        ),
    )


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    settings = DEFINITION.load_settings()
    if not isinstance(settings, InquiriesSettings):  # settings_type above makes this impossible
        raise TypeError(type(settings))
    return create_app(settings)
