"""Every route of every service survives hostile input with a 4xx problem: walks each service's
OpenAPI document, as an admin with an API key (so guarded routes are reached), and sends each
body route JSON nested a thousand deep, text in place of JSON, a repeated key and a NUL; each
integer path and query parameter a number past bigint; each GET route a HEAD. Then the cases
a single route owns: sync tokens, the public submission's names, lists and dates, the cached
read's HEAD and a weak If-Match."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from deploy.api_documents import FACTORIES, SERVICES
from services.runtime.access import api_keys, staff
from services.runtime.core.settings import ServiceSettings
from tests.content_samples import condition, create_and_publish
from tests.inquiry_samples import SUBMISSION
from tests.integration.test_access_control import Route, concrete, routes, service_settings

Client = AsyncTestClient[Litestar]
PAST_BIGINT = str(2**63)
# What a route may answer before it reads the body: a patient route without the patient's
# token (401), a resource that is not there (404).
BEFORE_THE_BODY = {401, 404}


@pytest.fixture
async def caller(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        _, token = await staff.create_token(conn, person="hostile-admin", roles=("admin",))
        _, key = await api_keys.create_api_key(
            conn, name="hostile-site", origins=(), rate_per_minute=10**9
        )
    finally:
        await conn.close()
    return {"Authorization": f"Bearer {token}", "X-API-Key": key}


@pytest.fixture(params=[d.name for d in SERVICES])
async def running(
    request: pytest.FixtureRequest, settings: ServiceSettings
) -> AsyncIterator[tuple[str, Client, list[Route]]]:
    definition = next(d for d in SERVICES if d.name == request.param)
    app = FACTORIES[definition.name](service_settings(definition, settings))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        document = (await client.get("/schema/openapi.json")).json()
        yield definition.name, client, routes(document)


def _problem_fields(answer: httpx.Response) -> dict[str, str]:
    body = answer.json()
    return {e["field"]: e["message"] for e in body.get("errors") or ()}


# (name, body, content type, expected status, a field the problem must name and a word of why)
HOSTILE_BODIES = [
    ("nested 1000 deep", b"[" * 1000 + b"]" * 1000, "application/json", 400, ("body", "nested")),
    ("nested objects", b'{"a":' * 1000 + b"1" + b"}" * 1000, "application/json", 400, None),
    ("text/plain", b"{}", "text/plain", 415, None),
    ("no content type", b"{}", None, 415, None),
    ("repeated key", b'{"a": 1, "a": 2}', "application/json", 400, ("a", "more than once")),
    ("NUL", b'{"a": "x\\u0000y"}', "application/json", 400, ("a", "control")),
]


async def test_every_body_route_answers_hostile_json_with_a_4xx_problem(
    running: tuple[str, Client, list[Route]], caller: dict[str, str]
) -> None:
    name, client, found = running
    with_body = [r for r in found if r.method in ("POST", "PUT", "PATCH")]
    assert with_body, f"{name} has no body route"
    failures = []
    reached = 0
    for route in with_body:
        for case, body, content_type, status, names in HOSTILE_BODIES:
            # If-Match too, for the writes that require one before they read the body.
            headers = {**caller, "If-Match": '"1"'}
            if content_type is not None:
                headers["Content-Type"] = content_type
            answer = await client.request(
                route.method, concrete(route), content=body, headers=headers
            )
            where = f"{route.method} {route.path} {case}"
            if answer.status_code in BEFORE_THE_BODY:
                continue
            reached += 1
            if answer.status_code != status:
                failures.append(f"{where}: {answer.status_code} {answer.text[:200]}")
            elif names is not None:
                field, why = names
                if why not in _problem_fields(answer).get(field, ""):
                    failures.append(f"{where}: {answer.text[:200]}")
    assert not failures, "\n".join(failures)
    if not reached:
        # Only a service none of whose routes takes a body (notifications) reads none.
        document = (await client.get("/schema/openapi.json")).json()
        takes_a_body = [
            f"{method.upper()} {path}"
            for path, item in document["paths"].items()
            for method, operation in item.items()
            if isinstance(operation, dict) and "requestBody" in operation
        ]
        assert not takes_a_body, f"no body route of {name} read the hostile bodies"


async def test_json_with_a_charset_or_a_json_suffix_is_taken(
    running: tuple[str, Client, list[Route]], caller: dict[str, str]
) -> None:
    name, client, found = running
    route = next(r for r in found if r.method in ("POST", "PUT"))
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        answer = await client.request(
            route.method,
            concrete(route),
            content=b'{"not-a-field": 1}',
            headers={**caller, "Content-Type": content_type},
        )
        assert answer.status_code != 415, f"{name} {route.path} {content_type}"
        assert answer.status_code < 500


async def test_integers_past_bigint_in_paths_and_queries_are_a_4xx(
    running: tuple[str, Client, list[Route]], caller: dict[str, str]
) -> None:
    name, client, found = running
    failures = []
    tried = 0
    for route in found:
        integers = [p for p in route.parameters if p.get("schema", {}).get("type") == "integer"] + [
            p
            for p in route.parameters
            if any(s.get("type") == "integer" for s in p.get("schema", {}).get("oneOf", ()))
        ]
        for parameter in integers:
            tried += 1
            url = concrete(route)
            if parameter["in"] == "path":
                url = re.sub(
                    r"\{" + parameter["name"] + r"\}",
                    PAST_BIGINT,
                    route.path,
                )
                url = concrete(Route(route.method, url, route.roles, route.schemes, ()))
                params = {}
            else:
                params = {parameter["name"]: PAST_BIGINT}
            answer = await client.request(route.method, url, params=params, headers=caller, json={})
            if answer.status_code >= 500 or answer.status_code not in (400, 401, 404):
                failures.append(f"{route.method} {route.path} {parameter['name']}: {answer.text}")
    assert tried, f"{name} has no integer parameter"
    assert not failures, "\n".join(failures)


async def test_head_is_answered_wherever_get_is_with_its_headers_and_no_body(
    running: tuple[str, Client, list[Route]], caller: dict[str, str]
) -> None:
    _, client, found = running
    failures = []
    for route in found:
        if route.method != "GET":
            continue
        url = concrete(route)
        got = await client.get(url, headers=caller)
        head = await client.head(url, headers=caller)
        if head.status_code != got.status_code or head.content:
            failures.append(f"HEAD {route.path}: {head.status_code} (GET {got.status_code})")
    live = await client.get("/health/live")
    live_head = await client.head("/health/live")
    assert live_head.headers["content-length"] == live.headers["content-length"]
    assert not failures, "\n".join(failures)


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
async def content(settings: ServiceSettings) -> AsyncIterator[Client]:
    definition = next(d for d in SERVICES if d.name == "content")
    app = FACTORIES["content"](service_settings(definition, settings))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
async def inquiries(settings: ServiceSettings) -> AsyncIterator[Client]:
    definition = next(d for d in SERVICES if d.name == "inquiries")
    app = FACTORIES["inquiries"](service_settings(definition, settings))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("seq", [PAST_BIGINT, "²", "-1", "", "1 ", "٣"])
async def test_a_sync_token_is_read_strictly(content: Client, seq: str) -> None:
    answer = await content.get("/v1/sync", params={"token": _token(f"sync:{seq}")})

    assert answer.status_code == 400, answer.text
    assert "token" in _problem_fields(answer)


@pytest.mark.parametrize(
    "snapshot",
    ["٣:٣:", "1:٣:", "3:5:٤", "0:0:", "5:3:", "3:9:9", "3:9:5,4", "3:9:5,5", "1:2:x"],
)
async def test_a_snapshot_sync_token_is_read_strictly(content: Client, snapshot: str) -> None:
    answer = await content.get("/v1/sync", params={"token": _token(f"snap:{snapshot}")})

    assert answer.status_code == 400, answer.text
    assert "token" in _problem_fields(answer)


async def test_the_cached_read_answers_head_with_its_headers_and_no_body(
    content: Client, caller: dict[str, str]
) -> None:
    await create_and_publish(content, caller, condition())
    url = "/v1/conditions/mitral-valve-insufficiency"
    await content.get(url)  # fills the cache: the next reads are ready answers
    got = await content.get(url)
    head = await content.head(url)

    assert head.status_code == got.status_code == 200
    assert head.content == b""
    for field in ("content-length", "etag", "cache-control", "content-type"):
        assert head.headers[field] == got.headers[field], field


async def test_a_weak_if_match_never_matches(content: Client, caller: dict[str, str]) -> None:
    doc = "/v1/editorial/conditions/mitral-valve-insufficiency"
    created = await content.post("/v1/editorial/documents", json=condition(), headers=caller)
    assert created.headers["etag"] == '"1"'

    weak = await content.put(doc, json=condition(), headers={**caller, "If-Match": 'W/"1"'})
    strong = await content.put(doc, json=condition(), headers={**caller, "If-Match": '"1"'})

    assert weak.status_code == 412, weak.text
    assert strong.status_code == 200, strong.text


def _submission(**patient: Any) -> dict[str, Any]:
    return {
        "patient": {
            "full_name": "Amira Haddad",
            "date_of_birth": "1970-03-01",
            "sex": "female",
            "country": "EG",
            "language": "ar",
            "email": "amira@example.org",
            **patient,
        },
        "condition_slug": "mitral-valve-insufficiency",
        "description": "Shortness of breath when climbing stairs.",
        "consent": dict(SUBMISSION["consent"]),
        "source": "hostile-site",
    }


@pytest.mark.parametrize(
    ("patch", "status", "field"),
    [
        ({"full_name": "Amira\u0000Haddad"}, 400, "full_name"),
        ({"full_name": "Amira\nHaddad"}, 400, "patient.full_name"),
        ({"date_of_birth": "0001-01-01"}, 422, "patient.date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, 422, "patient.date_of_birth"),
    ],
)
async def test_a_submission_with_an_implausible_patient_is_refused_naming_the_field(
    inquiries: Client,
    caller: dict[str, str],
    database_url: str,
    patch: dict[str, str],
    status: int,
    field: str,
) -> None:
    answer = await inquiries.post("/v1/inquiries", json=_submission(**patch), headers=caller)

    assert answer.status_code == status, answer.text
    assert field in _problem_fields(answer)
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM inquiries.inquiries") == 0
    finally:
        await conn.close()


async def test_a_submission_lists_at_most_fifty_diagnoses(
    inquiries: Client, caller: dict[str, str]
) -> None:
    body = {**_submission(), "diagnoses": ["I34.0"] * 100_000}

    answer = await inquiries.post("/v1/inquiries", json=body, headers=caller)

    assert answer.status_code == 400, answer.text
    assert "diagnoses" in _problem_fields(answer)


async def test_a_document_lists_at_most_a_hundred_items(
    content: Client, caller: dict[str, str]
) -> None:
    body = {**condition(), "tags": [f"tag-{n}" for n in range(101)]}

    answer = await content.post("/v1/editorial/documents", json=body, headers=caller)

    assert answer.status_code == 400, answer.text
    assert "tags" in _problem_fields(answer)
