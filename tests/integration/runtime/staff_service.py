"""A service of the runtime with one editor's route, for the tests of staff access (token
lifetimes, the admin doors): its client and a connection to its database (fixtures this
folder's conftest offers) and bearer headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from services.runtime.access import staff
from services.runtime.core.settings import ServiceSettings
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app


@get("/v1/desk", **staff.staff_only("editor"))
async def desk() -> dict[str, str]:
    return {"desk": "ok"}


DEFINITION = ServiceDefinition(
    name="content",
    title="test service",
    description="staff access under test",
    migrations=Path("/nonexistent"),
    default_port=0,
    route_handlers=(desk,),
)


@pytest.fixture
async def client(settings: ServiceSettings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_service_app(DEFINITION, settings)
    async with AsyncTestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
