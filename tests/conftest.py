"""One real PostgreSQL and one real NATS (JetStream) per test session; every test gets its own
database (cloned from a migrated template) and its own subject/stream namespace."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from deploy.embedded import free_port, start_nats, start_postgres
from services.content.app import DEFINITION as CONTENT
from services.inquiries.app import DEFINITION as INQUIRIES
from services.logistics.app import DEFINITION as LOGISTICS
from services.runtime.core.db import create_pool
from services.runtime.core.settings import ServiceSettings, load_settings
from services.runtime.messaging.bus import Bus
from services.runtime.service.definition import ServiceDefinition

DEFINITIONS: tuple[ServiceDefinition, ...] = (CONTENT, INQUIRIES, LOGISTICS)


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL to a database on a server where tests may create databases."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    server = start_postgres(tmp_path_factory.mktemp("pg") / "data", free_port(), durable=False)
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("TEST_NATS_URL")
    if external:
        yield external
        return
    server = start_nats(tmp_path_factory.mktemp("nats") / "data", free_port())
    try:
        yield server.url
    finally:
        server.stop()


def _database_url(admin_url: str, database: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def template_database(postgres_admin_url: str) -> Iterator[str]:
    """A database migrated once for every service; tests clone it instead of migrating."""
    from services.runtime.service.factory import prepare_database  # noqa: PLC0415

    name = f"cb_template_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        admin = await asyncpg.connect(postgres_admin_url)
        try:
            await admin.execute(f"CREATE DATABASE {name}")
        finally:
            await admin.close()
        for definition in DEFINITIONS:
            pool = await create_pool(
                _database_url(postgres_admin_url, name),
                schema=definition.schema,
                min_size=1,
                max_size=1,
            )
            try:
                await prepare_database(pool, definition)
            finally:
                await pool.close()

    asyncio.run(create())
    yield name
    asyncio.run(_drop_database(postgres_admin_url, name))


async def _drop_database(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def database_url(postgres_admin_url: str, template_database: str) -> AsyncIterator[str]:
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_admin_url)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template_database}")
    finally:
        await admin.close()
    yield _database_url(postgres_admin_url, name)
    await _drop_database(postgres_admin_url, name)


@pytest.fixture
async def namespace(nats_url: str) -> AsyncIterator[str]:
    """A subject/stream prefix of this test's own; its streams are deleted afterwards."""
    ns = f"t{uuid.uuid4().hex[:10]}"
    yield ns
    bus = await Bus.connect(nats_url, name="test-cleanup", namespace=ns)
    try:
        async for stream in _streams(bus):
            if stream.startswith(f"{ns}_"):
                await bus.js.delete_stream(stream)
    finally:
        await bus.close()


async def _streams(bus: Bus) -> AsyncIterator[str]:
    for info in await bus.js.streams_info():
        yield info.config.name or ""


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
