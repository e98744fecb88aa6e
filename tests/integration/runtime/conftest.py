"""Fixtures of the runtime's integration tests: a pool on the schema the test module names in
its SCHEMA, and the bus with every stream of the contracts provisioned."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from contracts.registry import STREAMS
from services.runtime.core.db import Pool, create_pool
from services.runtime.messaging.bus import Bus

# The staff-access tests' service (`client`, `db`); a module defining its own keeps it.
from tests.integration.runtime.staff_service import client, db  # noqa: F401 - fixtures


@pytest.fixture
async def pool(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, schema=request.module.SCHEMA, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def provisioned(bus: Bus) -> Bus:
    await bus.provision(STREAMS)
    return bus
