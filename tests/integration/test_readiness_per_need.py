"""Readiness per need: content serves reads from PostgreSQL and its cache, so a NATS outage
degrades it (its cache is not invalidated by events) but keeps it in the load balancer; the
booking services cannot work without NATS and report not ready."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from deploy.embedded import free_port, start_nats
from services.content.app import ContentSettings
from services.content.app import create_app as create_content
from services.logistics.app import LogisticsSettings
from services.logistics.app import create_app as create_logistics
from services.runtime.access import staff
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from tests.content_samples import condition, create_and_publish
from tests.support import eventually
from tests.support.service_env import every_service_environ

Client = AsyncTestClient[Litestar]
SLUG = "mitral-valve-insufficiency"


async def _ready(client: Client, status: int) -> bool:
    return (await client.get("/health/ready")).status_code == status


@pytest.mark.timeout(120)
async def test_content_stays_ready_and_serves_reads_through_a_nats_outage_while_logistics_is_not(
    settings: ServiceSettings, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    nats = start_nats(tmp_path / "nats", port)
    env = as_environ(settings) | every_service_environ() | {"NATS_URL": f"nats://127.0.0.1:{port}"}
    conn = await asyncpg.connect(database_url)
    try:
        async with AsyncExitStack() as running:
            content = await running.enter_async_context(
                AsyncTestClient(
                    create_content(load_settings(ContentSettings, environ=env)),
                    raise_server_exceptions=False,
                )
            )
            logistics = await running.enter_async_context(
                AsyncTestClient(
                    create_logistics(load_settings(LogisticsSettings, environ=env)),
                    raise_server_exceptions=False,
                )
            )
            _, token = await staff.create_token(conn, person="Eva Editor", roles=("editor",))
            await create_and_publish(content, {"Authorization": f"Bearer {token}"}, condition())
            assert (await content.get("/health/ready")).json()["status"] == "ok"

            nats.stop()

            await eventually(lambda: _ready(logistics, 503), timeout=20)
            await eventually(lambda: _ready(content, 200), timeout=20)
            ready = await content.get("/health/ready")
            assert ready.status_code == 200
            assert ready.json() == {
                "status": "degraded",
                "checks": {"postgres": "ok", "nats": "degraded", "lifecycle": "ok"},
            }
            assert (await logistics.get("/health/ready")).json()["checks"]["nats"] == (
                "disconnected"
            )
            read = await content.get(f"/v1/conditions/{SLUG}")
            assert read.status_code == 200
            assert read.json()["title"] == "Mitral valve insufficiency"

            nats = start_nats(tmp_path / "nats", port)
            await eventually(lambda: _ready(logistics, 200), timeout=30)
            assert (await content.get("/health/ready")).json()["status"] == "ok"
    finally:
        await conn.close()
        nats.stop()
