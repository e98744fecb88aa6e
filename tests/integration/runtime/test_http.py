"""What every service answers over HTTP: health, metrics, problem+json, staff auth, request ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.params import FromQuery, JSONBody
from litestar.testing import AsyncTestClient

from contracts.content import ContentPublished
from contracts.envelope import CE_CORRELATIONID
from contracts.registry import CONTENT_PUBLISHED
from services.runtime.access import staff
from services.runtime.core.db import transaction
from services.runtime.core.errors import FieldProblem, IllegalTransition, Invalid
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.messaging.bus import Bus
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app
from services.runtime.service.running import RuntimeDependency
from tests.support import eventually, metrics_page, own_metrics_port

PROBLEM = "application/problem+json"


class Greeting(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    count: Annotated[int, msgspec.Meta(ge=1)]


@post("/echo")
async def echo(data: JSONBody[Greeting]) -> Greeting:
    return data


@get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


@get("/database-away")
async def database_away() -> None:
    raise asyncpg.exceptions.CannotConnectNowError("the database system is starting up")


@get("/illegal")
async def illegal() -> None:
    raise IllegalTransition("cannot go from submitted to completed", allowed=["in_review"])


@get("/invalid")
async def invalid() -> None:
    raise Invalid(
        [
            FieldProblem(field="patient.email", message="not an email address"),
            FieldProblem(field="consent", message="is required"),
        ]
    )


@post("/publish", **staff.staff_only("editor"))
async def publish(runtime: RuntimeDependency) -> dict[str, str]:
    event = ContentPublished(
        kind="condition",
        slug="heart-failure",
        locales=("en",),
        revision=1,
        published_at=datetime.now(UTC),
    )
    async with transaction(runtime.pool) as conn:
        event_id = await runtime.outbox.emit(
            conn, CONTENT_PUBLISHED.subject(kind="condition"), event
        )
    return {"event_id": event_id}


@get("/stored")
async def stored(runtime: RuntimeDependency, text: FromQuery[str]) -> dict[str, str]:
    return {"text": await runtime.pool.fetchval("SELECT $1::text", text)}


DEFINITION = ServiceDefinition(
    name="content",
    title="test service",
    description="runtime under test",
    migrations=Path("/nonexistent"),
    default_port=0,
    route_handlers=(echo, boom, database_away, illegal, invalid, publish, stored),
)


@pytest.fixture
async def app(settings: ServiceSettings) -> Litestar:
    own = load_settings(ServiceSettings, environ=as_environ(settings) | own_metrics_port())
    return create_service_app(DEFINITION, own)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """The test's own connection: the app's pool lives on the test client's event loop."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def tokens(db: asyncpg.Connection) -> dict[str, str]:
    roles: tuple[staff.Role, ...] = ("admin", "editor", "coordinator")
    issued = [await staff.create_token(db, person=f"t-{role}", roles=(role,)) for role in roles]
    return {role: token for role, (_, token) in zip(roles, issued, strict=True)}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_live_and_ready_when_postgres_and_nats_answer(
    client: AsyncTestClient[Litestar],
) -> None:
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")

    assert live.status_code == 200
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"postgres": "ok", "nats": "ok", "lifecycle": "ok"},
    }


async def test_not_ready_once_shutting_down(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    app.state.runtime.accepting = False

    ready = await client.get("/health/ready")

    assert ready.status_code == 503
    assert ready.json()["checks"]["lifecycle"] == "shutting down"


async def test_unknown_route_is_a_404_problem(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/no/such/thing")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
        "instance": "/no/such/thing",
        "request_id": response.headers["x-request-id"],
    }


async def test_malformed_body_is_a_400_problem_naming_the_field(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.post("/echo", json={"name": "Ada", "count": 0})

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["title"] == "Invalid request"
    assert body["errors"] == [{"field": "count", "message": "Expected `int` >= 1"}]


async def test_unknown_body_field_is_refused(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/echo", json={"name": "Ada", "count": 1, "cuont": 2})

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Object contains unknown field `cuont`"


async def test_domain_errors_render_with_their_status_and_details(
    client: AsyncTestClient[Litestar],
) -> None:
    illegal = await client.get("/illegal")
    invalid = await client.get("/invalid")

    assert illegal.status_code == 409
    assert illegal.json()["allowed"] == ["in_review"]
    assert illegal.json()["detail"] == "cannot go from submitted to completed"
    assert invalid.status_code == 422
    assert invalid.json()["errors"] == [
        {"field": "patient.email", "message": "not an email address"},
        {"field": "consent", "message": "is required"},
    ]


async def test_unexpected_error_is_a_500_problem_that_leaks_nothing(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/boom", headers={"X-Request-ID": "req-42"})

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "secret internals" not in response.text
    assert response.json()["request_id"] == "req-42"
    assert response.headers["x-request-id"] == "req-42"


async def test_a_dependency_away_is_a_503_problem_asking_to_retry(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/database-away")

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "1"
    assert "starting up" not in response.text


async def test_request_ids_are_generated_and_unsafe_ones_replaced(
    client: AsyncTestClient[Litestar],
) -> None:
    generated = await client.get("/health/live")
    unsafe = await client.get("/health/live", headers={"X-Request-ID": "a b<script>"})

    assert len(generated.headers["x-request-id"]) == 32
    assert unsafe.headers["x-request-id"] != "a b<script>"
    assert generated.headers["x-correlation-id"] == generated.headers["x-request-id"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        (bearer("cbs_not-a-real-token"), 401),
    ],
)
async def test_staff_routes_refuse_missing_or_unknown_tokens(
    client: AsyncTestClient[Litestar], headers: dict[str, str], status: int
) -> None:
    response = await client.get("/admin/dead-letters", headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_staff_routes_refuse_the_wrong_role_and_admit_the_right_one(
    client: AsyncTestClient[Litestar], tokens: dict[str, str]
) -> None:
    as_editor = await client.get("/admin/dead-letters", headers=bearer(tokens["editor"]))
    as_admin = await client.get("/admin/dead-letters", headers=bearer(tokens["admin"]))
    admin_may_edit = await client.post("/publish", headers=bearer(tokens["admin"]))
    coordinator_may_not = await client.post("/publish", headers=bearer(tokens["coordinator"]))

    assert as_editor.status_code == 403
    assert as_editor.json()["detail"] == "this action needs the admin role"
    assert as_admin.status_code == 200
    assert as_admin.json() == []
    assert admin_may_edit.status_code == 201
    assert coordinator_may_not.status_code == 403


async def test_a_revoked_token_is_refused(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, tokens: dict[str, str]
) -> None:
    principal = await staff.find_principal(db, tokens["admin"])
    assert principal is not None
    assert await staff.revoke_token(db, principal.token_id)

    response = await client.get("/admin/dead-letters", headers=bearer(tokens["admin"]))

    assert response.status_code == 401


async def test_replaying_an_unknown_dead_letter_is_a_404_problem(
    client: AsyncTestClient[Litestar], tokens: dict[str, str]
) -> None:
    response = await client.post("/admin/dead-letters/999/replay", headers=bearer(tokens["admin"]))

    assert response.status_code == 404
    assert response.json()["detail"] == "dead letter 999 does not exist"


async def test_an_event_emitted_by_a_request_carries_its_correlation_id(
    client: AsyncTestClient[Litestar], bus: Bus, tokens: dict[str, str]
) -> None:
    response = await client.post(
        "/publish", headers={**bearer(tokens["editor"]), "X-Correlation-ID": "journey-7"}
    )
    assert response.status_code == 201

    async def published_headers() -> dict[str, str] | None:
        try:
            msg = await bus.js.get_last_msg(
                bus.stream("CONTENT"), bus.subject("content.condition.published.v1")
            )
        except Exception:  # noqa: BLE001 - not there yet
            return None
        return msg.headers

    headers = await eventually(published_headers)
    assert headers["ce-id"] == response.json()["event_id"]
    assert headers[CE_CORRELATIONID] == "journey-7"


def _labels(metrics_page: str) -> str:
    """Every sample's labels, without the values: a number such as a latency sum may hold any
    digits."""
    return "\n".join(
        line.partition("{")[2].partition("}")[0]
        for line in metrics_page.splitlines()
        if not line.startswith("#")
    )


async def test_metrics_count_requests_by_route_template(
    client: AsyncTestClient[Litestar], tokens: dict[str, str]
) -> None:
    await client.get("/health/live")
    await client.post("/admin/dead-letters/31337/replay", headers=bearer(tokens["admin"]))

    text = await metrics_page(client)

    assert 'http_requests_total{method="GET",route="/health/live",status="200"} 1.0' in text
    assert (
        'http_requests_total{method="POST",route="/admin/dead-letters/{dead_letter_id}/replay",'
        'status="404"} 1.0'
    ) in text
    assert "31337" not in _labels(text), "raw ids from URLs must never become metric labels"
    await client.get("/no/such/page/4242")
    unmatched = await metrics_page(client)
    assert 'http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in unmatched
    assert "4242" not in _labels(unmatched)
    assert "outbox_backlog 0.0" in text
    assert "http_request_duration_seconds_bucket" in text


async def test_metrics_show_events_published_by_type_and_how_long_the_oldest_waits(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, tokens: dict[str, str]
) -> None:
    published = 'events_published_total{type="org.carebridge.content_published.v1"} 1.0'
    assert "outbox_oldest_age_seconds 0.0" in await metrics_page(client)
    await db.execute(
        "INSERT INTO content.outbox (id, subject, headers, payload, created_at) "
        "VALUES (gen_random_uuid(), 'held.back', '{}', '', now() - interval '90 seconds')"
    )
    # Claimed by no relay round: the subject is outside every stream, so it stays and ages.
    page = await metrics_page(client)
    assert 90 <= _gauge(page, "outbox_oldest_age_seconds") < 200
    await db.execute("DELETE FROM content.outbox WHERE subject = 'held.back'")

    assert (await client.post("/publish", headers=bearer(tokens["editor"]))).status_code == 201

    async def counted() -> bool:
        return published in await metrics_page(client)

    await eventually(counted, timeout=10)


def _gauge(page: str, name: str) -> float:
    return next(float(line.split()[1]) for line in page.splitlines() if line.startswith(name + " "))


async def test_openapi_document_and_ui_are_served(client: AsyncTestClient[Litestar]) -> None:
    document = await client.get("/schema/openapi.json")
    ui = await client.get("/schema")

    assert document.status_code == 200
    paths = document.json()["paths"]
    assert "/health/ready" in paths
    assert paths["/admin/dead-letters"]["get"]["security"] == [{"staffToken": ["admin"]}]
    # Completed on its first read (the app is made without building it): every error answer
    # is a problem document.
    assert "Problem" in document.json()["components"]["schemas"]
    assert paths["/admin/dead-letters"]["get"]["responses"]["401"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert ui.status_code == 200
    assert "text/html" in ui.headers["content-type"]
    assert "cdn" not in ui.text.lower()


async def test_the_public_and_staff_parts_of_the_document_each_have_a_docs_page(
    client: AsyncTestClient[Litestar],
) -> None:
    public = (await client.get("/schema/public.json")).json()
    staff = (await client.get("/schema/staff.json")).json()
    pages = {part: await client.get(f"/schema/{part}") for part in ("public", "staff")}

    assert "/admin/dead-letters" in staff["paths"]
    assert "/health/ready" in staff["paths"]
    assert not any(p.startswith(("/admin/", "/health/")) for p in public["paths"])
    for path, item in public["paths"].items():
        for operation in item.values():
            ways = operation.get("security") or [{}]
            assert any("staffToken" not in way for way in ways), path
    # Each page shows its part alone: a staff route is on the staff page only.
    for page in pages.values():
        assert page.status_code == 200
        assert "cdn" not in page.text.lower()
    assert "/admin/dead-letters" in pages["staff"].text
    assert "/admin/dead-letters" not in pages["public"].text


async def test_the_docs_assets_are_the_files_the_page_loads_and_no_other(
    client: AsyncTestClient[Litestar],
) -> None:
    script = await client.get("/schema/assets/swagger-ui-bundle.js")
    source_map = await client.get("/schema/assets/swagger-ui-bundle.js.map")
    escape = await client.get("/schema/assets/..%2Fswagger-ui.css")

    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "max-age=86400" in script.headers["cache-control"]
    assert source_map.status_code == 404
    assert escape.status_code == 404


async def test_text_the_database_cannot_hold_is_a_400_not_a_crash(
    client: AsyncTestClient[Litestar],
) -> None:
    fine = await client.get("/stored", params={"text": "Herzklappe"})
    nul = await client.get("/stored", params={"text": "Herz\x00klappe"})

    assert fine.json() == {"text": "Herzklappe"}
    assert nul.status_code == 400
    assert nul.headers["content-type"] == PROBLEM
    assert nul.json()["detail"] == "text must not contain the NUL character (U+0000)"


async def test_metrics_are_served_on_their_own_port_and_never_on_the_api_port(
    client: AsyncTestClient[Litestar],
) -> None:
    public = await client.get("/metrics")
    page = await metrics_page(client)
    port = client.app.state.runtime.metrics_port
    async with httpx.AsyncClient(timeout=5.0) as http:
        elsewhere = await http.get(f"http://127.0.0.1:{port}/admin/dead-letters/")
        posted = await http.post(f"http://127.0.0.1:{port}/metrics")

    assert public.status_code == 404
    assert "http_requests_total" in page
    assert (elsewhere.status_code, posted.status_code) == (404, 405)
