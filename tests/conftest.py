"""Fixtures every test may ask for. The servers, the test's own database and its own NATS
namespace come from the plugin tests/support/servers.py (one PostgreSQL and one NATS per run,
shared by the xdist workers); the settings and bus here are built on them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.runtime.core.settings import ServiceSettings
from services.runtime.messaging.bus import Bus
from tests.support.service_env import service_settings

pytest_plugins = ["tests.support.servers", "tests.support.groups"]


@pytest.fixture
def settings(database_url: str, nats_url: str, namespace: str) -> ServiceSettings:
    """Settings as a service would read them, tuned so background loops react quickly."""
    return service_settings(database_url, nats_url, namespace)


@pytest.fixture
async def bus(nats_url: str, namespace: str) -> AsyncIterator[Bus]:
    bus = await Bus.connect(nats_url, name="test", namespace=namespace)
    yield bus
    await bus.close()
