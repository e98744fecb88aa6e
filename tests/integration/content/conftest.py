"""A running content service (real PostgreSQL and NATS) and documents to feed it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.content.app import ContentSettings, create_app
from services.runtime.access import staff
from services.runtime.core.settings import ServiceSettings, load_settings
from tests.support import own_metrics_port


@pytest.fixture
def content_settings(settings: ServiceSettings) -> ContentSettings:
    env = {k.upper(): str(v) for k, v in __import__("msgspec").structs.asdict(settings).items()}
    env |= {"PREVIEW_SECRET": "test-secret", "SCHEDULE_INTERVAL": "0.2", **own_metrics_port()}
    # Review is required in production; the tests of review (test_reviews.py) turn it on.
    env |= {"CONTENT_REQUIRE_REVIEW": "false"}
    return load_settings(ContentSettings, environ=env)


@pytest.fixture
async def client(content_settings: ContentSettings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(create_app(content_settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "content"})
    yield conn
    await conn.close()


@pytest.fixture
async def editor(db: asyncpg.Connection) -> dict[str, str]:
    _, token = await staff.create_token(db, person="Eva Editor", roles=("editor",))
    return {"Authorization": f"Bearer {token}"}
