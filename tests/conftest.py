"""Fixtures every test may ask for. The servers, the test's own database and its own NATS
namespace come from the plugin tests/support/servers.py (one PostgreSQL and one NATS per run,
shared by the xdist workers); the settings and bus here are built on them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from deploy.embedded import free_port
from services.runtime.core.settings import ServiceSettings, load_settings
from services.runtime.messaging.bus import Bus

pytest_plugins = ["tests.support.servers", "tests.support.groups"]


@pytest.fixture
def settings(database_url: str, nats_url: str, namespace: str) -> ServiceSettings:
    """Settings as a service would read them, tuned so background loops react quickly."""
    return load_settings(
        ServiceSettings,
        environ={
            "DATABASE_URL": database_url,
            "NATS_URL": nats_url,
            "NATS_NAMESPACE": namespace,
            "RELAY_POLL_INTERVAL": "0.2",
            "CONSUMER_MAX_DELIVER": "3",
            "DB_POOL_MIN": "1",
            # No metrics listener: tests start several services from these settings. A test
            # that reads metrics gives its service a port of its own (own_metrics_port).
            "METRICS_PORT": "0",
        },
        port=free_port(),
    )


@pytest.fixture
async def bus(nats_url: str, namespace: str) -> AsyncIterator[Bus]:
    bus = await Bus.connect(nats_url, name="test", namespace=namespace)
    yield bus
    await bus.close()
