"""Cached reads answered by the fast path are sampled in the access log: a line costs more
than such a read."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from litestar.testing import AsyncTestClient
from structlog.testing import capture_logs

from services.content.app import ContentSettings, create_app
from services.runtime.core.settings import as_environ, load_settings
from services.runtime.http import access_log
from tests.content_samples import condition, create_and_publish
from tests.support import eventually

PATH = "/v1/conditions/mitral-valve-insufficiency"


@pytest.fixture(autouse=True)
def fresh_access_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each app's lifespan configures logging anew, and a logger used once keeps the
    configuration it was first used under: a fresh one is captured by `capture_logs`."""
    monkeypatch.setattr(access_log, "log", structlog.get_logger("access"))


@pytest.mark.parametrize(("sample", "lines"), [("0", 0), ("1", 1)])
async def test_a_cached_read_is_logged_as_often_as_its_sample_says(
    content_settings: ContentSettings, editor: dict[str, str], sample: str, lines: int
) -> None:
    env = as_environ(content_settings) | {"ACCESS_LOG_SAMPLE_CACHED": sample}
    app = create_app(load_settings(ContentSettings, environ=env))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        await create_and_publish(client, editor, condition())

        # Until the fast path answers (no correlation id: only the framework adds one): the
        # publish event may still drop the first read's entry after it was stored.
        async def from_cache() -> bool:
            read = await client.get(PATH)
            assert read.status_code == 200
            return "x-correlation-id" not in read.headers

        await eventually(from_cache, timeout=5)
        with capture_logs() as logs:
            cached = await client.get(PATH, headers={"X-Request-Id": "cached1"})

    assert cached.status_code == 200
    written: list[dict[str, Any]] = [line for line in logs if line["event"] == "http request"]
    assert len(written) == lines
    for line in written:
        assert line["route"] == "/v1/{collection}/{slug}"
        assert line["status"] == 200
        assert line["bytes"] == int(cached.headers["content-length"])  # as sent, compressed
        assert line["request_id"] == "cached1"
