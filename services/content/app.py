"""Wiring of the content service."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar

from services.runtime.service import create_service_app
from services.runtime.state import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="content",
    title="Carebridge content API",
    description=(
        "Localised medical content (conditions, treatments, service offerings) for "
        "third-party sites, and the editorial workflow behind it."
    ),
    default_port=8001,
    migrations=Path(__file__).parent / "migrations",
)


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    return create_service_app(DEFINITION, DEFINITION.load_settings())
