"""Access logs: one structured line per request, with the route template and never a body, a
token or a query value."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from litestar import Litestar, get
from litestar.params import FromPath, FromQuery
from litestar.testing import AsyncTestClient
from structlog.testing import capture_logs

from services.runtime.core.settings import ServiceSettings, SettingsError, as_environ, load_settings
from services.runtime.http import access_log
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
FIELDS = {"method", "route", "status", "duration_ms", "bytes", "request_id", "trace_id"}


@get("/patients/{patient_id:int}/notes")
async def notes(patient_id: FromPath[int], search: FromQuery[str] = "") -> dict[str, Any]:
    return {"patient": patient_id, "found": len(search)}


DEFINITION = ServiceDefinition(
    name="content",
    title="test service",
    description="access logs under test",
    migrations=Path("/nonexistent"),
    default_port=0,
    route_handlers=(notes,),
)


@pytest.fixture(autouse=True)
def fresh_access_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each app's lifespan configures logging anew, and a logger used once keeps the
    configuration it was first used under: a fresh one is captured by `capture_logs`."""
    monkeypatch.setattr(access_log, "log", structlog.get_logger("access"))


def access_lines(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in logs if line["event"] == "http request"]


async def started(settings: ServiceSettings, **env: str) -> AsyncTestClient[Litestar]:
    own = load_settings(ServiceSettings, environ=as_environ(settings) | env)
    return AsyncTestClient(create_service_app(DEFINITION, own), raise_server_exceptions=False)


@pytest.fixture
async def client(settings: ServiceSettings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with await started(settings) as client:
        yield client


async def test_a_request_writes_one_line_with_its_route_template_and_no_query_or_token(
    client: AsyncTestClient[Litestar],
) -> None:
    with capture_logs() as logs:
        response = await client.get(
            "/patients/4711/notes?search=Maria+Musterfrau",
            headers={
                "Authorization": "Bearer secret-token-value",
                "X-Request-Id": "req-1",
                "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01",
            },
        )

    assert response.status_code == 200
    [line] = access_lines(logs)
    assert line.keys() >= FIELDS
    assert line["method"] == "GET"
    assert line["route"] == "/patients/{patient_id}/notes"
    assert line["status"] == 200
    assert line["bytes"] == len(response.content)
    assert line["duration_ms"] >= 0
    assert line["request_id"] == "req-1"
    assert line["trace_id"] == TRACE_ID
    written = repr(logs)
    for private in ("4711", "Maria", "Musterfrau", "secret-token-value", "search="):
        assert private not in written


async def test_unmatched_paths_and_malformed_traceparents_are_logged_without_either(
    client: AsyncTestClient[Litestar],
) -> None:
    with capture_logs() as logs:
        response = await client.get("/no/such/page/4242", headers={"traceparent": "00-zz-1-01"})

    assert response.status_code == 404
    [line] = access_lines(logs)
    assert line["route"] == "unmatched"
    assert line["status"] == 404
    assert line["trace_id"] is None
    assert "4242" not in repr(line)


async def test_a_refusal_before_routing_is_logged_too(client: AsyncTestClient[Litestar]) -> None:
    with capture_logs() as logs:
        response = await client.get("/patients/1/notes", headers={"X-API-Key": "cbk_unknown"})

    assert response.status_code == 401
    [line] = access_lines(logs)
    assert line["route"] == "unrouted"
    assert line["status"] == 401
    assert line["bytes"] == len(response.content)
    assert "cbk_unknown" not in repr(logs)


async def test_access_log_false_writes_no_lines(settings: ServiceSettings) -> None:
    async with await started(settings, ACCESS_LOG="false") as client:
        with capture_logs() as logs:
            await client.get("/patients/1/notes")
            await client.get("/patients/1/notes", headers={"X-API-Key": "cbk_unknown"})

    assert access_lines(logs) == []


def test_a_sample_outside_zero_to_one_is_refused_naming_the_variable(
    settings: ServiceSettings,
) -> None:
    with pytest.raises(SettingsError, match="ACCESS_LOG_SAMPLE_CACHED is invalid"):
        load_settings(
            ServiceSettings, environ=as_environ(settings) | {"ACCESS_LOG_SAMPLE_CACHED": "1.5"}
        )
