"""Sites' webhooks on the real servers: a site registers a URL with its API key, and a real
HTTP server standing for its CDN-purging endpoint is sent `content.published` and
`content.unpublished`, signed with the secret the registration answered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from standardwebhooks import Webhook

from services.content.app import ContentSettings, create_app
from services.runtime.access import api_keys
from services.runtime.core.settings import as_environ, load_settings
from services.runtime.privacy.crypto import KeyRing
from tests.content_samples import condition, create_and_publish
from tests.support import eventually
from tests.support.webhook_receiver import Receiver, webhook_receiver

Client = AsyncTestClient[Litestar]


@pytest.fixture
def endpoint() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


def settings_with(content_settings: ContentSettings, **overrides: str) -> ContentSettings:
    env = as_environ(content_settings) | overrides
    return load_settings(ContentSettings, environ=env)


@pytest.fixture
def hooked(content_settings: ContentSettings) -> ContentSettings:
    return settings_with(
        content_settings,
        CONTENT_ENCRYPTION_KEYS=KeyRing.generate_setting("c1"),
        SITE_WEBHOOK_ALLOW_PRIVATE="true",
    )


@pytest.fixture
async def site_key(db: asyncpg.Connection) -> dict[str, str]:
    _, key = await api_keys.create_api_key(db, name="clinic-site", origins=(), rate_per_minute=1000)
    return {"X-API-Key": key}


async def test_a_sites_content_webhook_fires_on_publish_and_unpublish(
    hooked: ContentSettings,
    editor: dict[str, str],
    site_key: dict[str, str],
    endpoint: Receiver,
    db: asyncpg.Connection,
) -> None:
    async with AsyncTestClient(create_app(hooked), raise_server_exceptions=False) as client:
        body = {"url": endpoint.url, "events": ["content.published", "content.unpublished"]}
        registered = await client.put("/v1/webhooks", json=body, headers=site_key)
        assert registered.status_code == 201, registered.text
        secret = registered.json()["signing_secret"]
        assert secret.startswith("whsec_")
        again = await client.put("/v1/webhooks", json=body, headers=site_key)
        assert again.status_code == 200
        assert again.json()["signing_secret"] is None
        shown = await client.get("/v1/webhooks", headers=site_key)
        assert shown.json()["url"] == endpoint.url

        await create_and_publish(client, editor, condition())

        async def arrived(count: int) -> list[Any] | None:
            got = endpoint.received()
            return got if len(got) >= count else None

        (published,) = await eventually(lambda: arrived(1), timeout=15)
        message = Webhook(secret).verify(published.body, published.headers)
        assert message["type"] == "content_published"
        assert message["slug"] == "mitral-valve-insufficiency"

        unpublished = await client.post(
            "/v1/editorial/conditions/mitral-valve-insufficiency/unpublish", headers=editor
        )
        assert unpublished.status_code == 200, unpublished.text
        second = (await eventually(lambda: arrived(2), timeout=15))[1]
        assert Webhook(secret).verify(second.body, second.headers)["type"] == (
            "content_unpublished"
        )

        async def nothing_waits() -> bool:
            # The row goes once the 2xx is in, a moment after the endpoint saw the request.
            return await db.fetchval("SELECT count(*) FROM webhook_deliveries") == 0

        await eventually(nothing_waits, timeout=5)
        # Stored sealed: the secret is not in the row.
        sealed = await db.fetchval("SELECT signing_secret FROM site_webhooks")
        assert secret.encode() not in sealed


async def test_site_webhooks_refuse_bad_input_and_private_urls_without_the_flag(
    content_settings: ContentSettings,
    site_key: dict[str, str],
    db: asyncpg.Connection,
) -> None:
    strict = settings_with(content_settings, CONTENT_ENCRYPTION_KEYS=KeyRing.generate_setting("c1"))
    async with AsyncTestClient(create_app(strict), raise_server_exceptions=False) as client:
        good = ["content.published"]
        for body, status in (
            ({"url": "https://127.0.0.1/purge", "events": good}, 422),
            ({"url": "http://cdn.example/purge", "events": good}, 422),
            ({"url": "https://cdn.example/purge", "events": ["content.deleted"]}, 400),
            ({"url": "https://cdn.example/purge", "events": []}, 400),
            ({"url": "https://cdn.example/purge", "events": good, "extra": 1}, 400),
        ):
            answer = await client.put("/v1/webhooks", json=body, headers=site_key)
            assert answer.status_code == status, (body, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
        anonymous = await client.put(
            "/v1/webhooks", json={"url": "https://cdn.example/purge", "events": good}
        )
        assert anonymous.status_code == 401
        assert (await client.get("/v1/webhooks", headers=site_key)).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM site_webhooks") == 0
