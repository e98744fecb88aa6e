"""Wiring of the inquiries service."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar

from services.inquiries.catalogue import CONDITION_CATALOGUE
from services.runtime.service import create_service_app
from services.runtime.settings import ServiceSettings
from services.runtime.state import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="inquiries",
    title="Carebridge inquiries API",
    description=(
        "Patient treatment inquiries from third-party sites, and the coordinators' case workflow."
    ),
    default_port=8002,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=lambda _: (CONDITION_CATALOGUE,),
)


def create_app(settings: ServiceSettings) -> Litestar:
    return create_service_app(DEFINITION, settings)


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    return create_app(DEFINITION.load_settings())
