"""The audit log: every staff change is recorded with who, what route, which ids and the answer,
refused attempts included; reads, anonymous calls and bodies are not; only admins read it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar, Request, get, post
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from services.runtime.access import audit, staff
from services.runtime.core.settings import ServiceSettings
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app


@post("/v1/things/{thing_id:int}/approve", status_code=200, **staff.staff_only("editor"))
async def approve(thing_id: FromPath[int]) -> dict[str, int]:
    return {"approved": thing_id}


@get("/v1/things/{thing_id:int}", **staff.staff_only("editor"))
async def read(thing_id: FromPath[int]) -> dict[str, int]:
    return {"thing": thing_id}


@get(
    "/v1/cases/{inquiry_id:uuid}",
    **audit.reads(staff.staff_only("coordinator")),
)
async def read_case(inquiry_id: FromPath[uuid.UUID]) -> dict[str, str]:
    return {"case": str(inquiry_id)}


@get("/v1/parcels/{parcel_id:int}", **audit.reads(staff.staff_only("coordinator")))
async def read_parcel(request: Request[Any, Any, Any], parcel_id: FromPath[int]) -> dict[str, int]:
    # Like a booking read by its own id: the handler names the case it belongs to.
    audit.concerns(request.state, [PARCEL_CASE])
    return {"parcel": parcel_id}


PARCEL_CASE = uuid.UUID("00000000-0000-4000-8000-00000000000c")

DEFINITION = ServiceDefinition(
    name="content",
    title="test service",
    description="audit under test",
    migrations=Path("/nonexistent"),
    default_port=0,
    route_handlers=(approve, read, read_case, read_parcel),
)


@pytest.fixture
async def client(settings: ServiceSettings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_service_app(DEFINITION, settings)
    async with AsyncTestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "content"})
    yield conn
    await conn.close()


@pytest.fixture
async def tokens(db: asyncpg.Connection) -> dict[str, str]:
    issued = {}
    for role, person in (("admin", "Ada Admin"), ("editor", "Eva Editor"), ("coordinator", "Cem")):
        _, issued[role] = await staff.create_token(db, person=person, roles=(role,))
    return issued


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def audit_rows(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT person, method, route, target, status FROM audit_log ORDER BY id")
    return [{**dict(r.items()), "target": json.loads(r["target"])} for r in rows]


async def test_a_staff_change_and_a_refused_attempt_are_recorded_reads_are_not(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, tokens: dict[str, str]
) -> None:
    assert (await client.post("/v1/things/7/approve", headers=bearer(tokens["editor"]))).is_success
    refused = await client.post("/v1/things/8/approve", headers=bearer(tokens["coordinator"]))
    assert refused.status_code == 403
    assert (await client.post("/v1/things/9/approve")).status_code == 401
    assert (await client.get("/v1/things/7", headers=bearer(tokens["editor"]))).is_success

    assert await audit_rows(db) == [
        {
            "person": "Eva Editor",
            "method": "POST",
            "route": "/v1/things/{thing_id}/approve",
            "target": {"thing_id": "7"},
            "status": 200,
        },
        {
            "person": "Cem",
            "method": "POST",
            "route": "/v1/things/{thing_id}/approve",
            "target": {"thing_id": "8"},
            "status": 403,
        },
    ]


async def test_admins_read_the_log_newest_first_filtered_and_paged(
    client: AsyncTestClient[Litestar], tokens: dict[str, str]
) -> None:
    for thing in (1, 2, 3):
        await client.post(f"/v1/things/{thing}/approve", headers=bearer(tokens["editor"]))
    await client.post("/v1/things/4/approve", headers=bearer(tokens["coordinator"]))
    admin = bearer(tokens["admin"])

    everything = (await client.get("/admin/audit", headers=admin)).json()
    assert [e["target"]["thing_id"] for e in everything] == ["4", "3", "2", "1"]
    assert everything[0]["person"] == "Cem"
    assert everything[0]["roles"] == ["coordinator"]
    assert everything[0]["request_id"]

    eva = (await client.get("/admin/audit?person=Eva Editor&limit=2", headers=admin)).json()
    assert [e["target"]["thing_id"] for e in eva] == ["3", "2"]
    rest = await client.get(
        f"/admin/audit?person=Eva Editor&before_id={eva[-1]['id']}", headers=admin
    )
    assert [e["target"]["thing_id"] for e in rest.json()] == ["1"]


async def test_only_admins_read_the_log_and_bad_filters_are_400(
    client: AsyncTestClient[Litestar], tokens: dict[str, str]
) -> None:
    assert (await client.get("/admin/audit")).status_code == 401
    assert (await client.get("/admin/audit", headers=bearer(tokens["editor"]))).status_code == 403
    for query in ("limit=0", "limit=5000", "before_id=0", "since=yesterday"):
        answer = await client.get(f"/admin/audit?{query}", headers=bearer(tokens["admin"]))
        assert answer.status_code == 400, query
        assert answer.headers["content-type"].startswith("application/problem+json")


async def test_audited_reads_name_their_case_and_the_log_filters_by_case_and_time(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, tokens: dict[str, str]
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    cem = bearer(tokens["coordinator"])
    assert (await client.get(f"/v1/cases/{first}", headers=cem)).is_success
    assert (await client.get(f"/v1/cases/{second}", headers=cem)).is_success
    assert (await client.get("/v1/parcels/5", headers=cem)).is_success
    # A read refused by the role check is recorded too, for the auditor.
    assert (await client.get(f"/v1/cases/{first}", headers=bearer(tokens["editor"]))).status_code
    admin = bearer(tokens["admin"])

    about_first = (await client.get(f"/admin/audit?case={first}", headers=admin)).json()
    assert [(e["person"], e["method"], e["status"]) for e in about_first] == [
        ("Eva Editor", "GET", 403),
        ("Cem", "GET", 200),
    ]
    assert about_first[1]["route"] == "/v1/cases/{inquiry_id}"
    assert about_first[1]["cases"] == [str(first)]
    parcel = (await client.get(f"/admin/audit?case={PARCEL_CASE}", headers=admin)).json()
    assert [e["route"] for e in parcel] == ["/v1/parcels/{parcel_id}"]

    # Who read a case, as the patient's export lists it: answered reads only, oldest first.
    reads = await audit.reads_of_case(db, str(first))
    assert [(r.person, r.route) for r in reads] == [("Cem", "/v1/cases/{inquiry_id}")]
    assert await audit.reads_of_case(db, str(uuid.uuid4())) == []

    at = about_first[1]["at"]
    until = (await client.get(f"/admin/audit?case={first}&until={at}", headers=admin)).json()
    assert until == []
    since = (await client.get(f"/admin/audit?case={first}&since={at}", headers=admin)).json()
    assert len(since) == 2
    cem_only = await client.get(f"/admin/audit?case={first}&person=Cem", headers=admin)
    assert [e["person"] for e in cem_only.json()] == ["Cem"]


async def test_a_bad_case_or_time_range_filter_is_400(
    client: AsyncTestClient[Litestar], tokens: dict[str, str]
) -> None:
    admin = bearer(tokens["admin"])
    for query in (
        "case=not-a-case",
        "until=tomorrow",
        "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
    ):
        answer = await client.get(f"/admin/audit?{query}", headers=admin)
        assert answer.status_code == 400, query
        assert answer.headers["content-type"].startswith("application/problem+json")
