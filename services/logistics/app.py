"""Wiring of the logistics service."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar

from services.runtime.service import create_service_app
from services.runtime.settings import ServiceSettings
from services.runtime.state import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="logistics",
    title="Carebridge logistics API",
    description=(
        "Airport transfer, interpreter and medicine-shipment bookings, dispatched to "
        "partner providers over NATS."
    ),
    default_port=8003,
    migrations=Path(__file__).parent / "migrations",
)


def create_app(settings: ServiceSettings) -> Litestar:
    return create_service_app(DEFINITION, settings)


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    return create_app(DEFINITION.load_settings())
