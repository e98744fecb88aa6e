"""Every door is locked: walks each service's OpenAPI document and proves that every route that
declares a staff role refuses a request without a token (401) and one with a token of another
role (403), and that every route declaring none is on the list of routes meant to be public.

A route added without a guard fails here, because it is not on the public list; a guard that
lets the wrong role in fails here, because the document names the role it needs."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from deploy.api_documents import FACTORIES, SERVICES
from services.runtime.access import consumer_access, staff
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.service.definition import ServiceDefinition
from tests.support.service_env import every_service_environ

# (method, path template) of routes anyone may call, per service: every other route declares how
# it authenticates (a staff role, a consumer's API key or the patient's access token).
PUBLIC: dict[str, set[tuple[str, str]]] = {
    "*": {
        ("GET", "/health/live"),
        ("GET", "/health/ready"),
    },
    "content": {
        # conditions, treatments, services
        ("GET", "/v1/{collection}"),
        ("GET", "/v1/{collection}/{slug}"),
        ("GET", "/v1/search"),
        ("GET", "/v1/sync"),
        ("GET", "/v1/preview/{token}"),
    },
    "inquiries": {
        # A patient who lost the token: the same 202 whatever is sent, limited per inquiry.
        ("POST", "/v1/inquiries/{inquiry_id}/token-recovery"),
        # The consent notices a site shows before the patient submits.
        ("GET", "/v1/consent-notices"),
        # A proof-of-work challenge for a browser's submission: signed, nothing stored.
        ("GET", "/v1/altcha/challenge"),
    },
    "logistics": set(),
    "support": set(),
    "notifications": set(),
}
# For each required role, a role that must be refused (admin may do everything).
WRONG_ROLE: dict[str, staff.Role] = {
    "editor": "coordinator",
    "coordinator": "editor",
    "medical_reviewer": "editor",
    "admin": "coordinator",
    "support_agent": "editor",
}
METHODS = ("get", "post", "put", "patch", "delete")


PATIENT_SCHEME = "patientToken"
PARTNER_SCHEME = "partnerToken"


class Route(msgspec.Struct, frozen=True):
    method: str
    path: str
    roles: tuple[str, ...]
    schemes: frozenset[str]
    parameters: tuple[dict[str, Any], ...]


def routes(document: dict[str, Any]) -> list[Route]:
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            security = operation.get("security") or ()
            roles = tuple(
                role
                for requirement in security
                for role in requirement.get(staff.SECURITY_SCHEME, ())
            )
            schemes = frozenset(name for requirement in security for name in requirement)
            parameters = tuple(operation.get("parameters", ()))
            found.append(Route(method.upper(), path, roles, schemes, parameters))
    return found


def concrete(route: Route) -> str:
    """The path with each parameter filled by a value of its declared format, so the request
    reaches the guard instead of failing to route."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        schema = next((p.get("schema", {}) for p in route.parameters if p.get("name") == name), {})
        if schema.get("format") == "uuid":
            return str(uuid.uuid4())
        if schema.get("type") == "integer":
            return "1"
        return "x"

    return re.sub(r"\{(\w+)\}", value, route.path)


def service_settings(definition: ServiceDefinition, settings: ServiceSettings) -> ServiceSettings:
    env = as_environ(settings)
    env |= every_service_environ()
    return load_settings(definition.settings_type, environ=env)


@pytest.fixture
async def tokens(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        issued = {}
        for role in staff.ROLES:
            _, issued[role] = await staff.create_token(conn, person=f"access-{role}", roles=(role,))
        return issued
    finally:
        await conn.close()


@pytest.fixture(params=[d.name for d in SERVICES])
async def running(
    request: pytest.FixtureRequest, settings: ServiceSettings
) -> AsyncIterator[tuple[str, AsyncTestClient[Litestar]]]:
    definition = next(d for d in SERVICES if d.name == request.param)
    app = FACTORIES[definition.name](service_settings(definition, settings))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        yield definition.name, client


async def test_every_staff_route_refuses_no_token_and_the_wrong_role(
    running: tuple[str, AsyncTestClient[Litestar]], tokens: dict[str, str]
) -> None:
    name, client = running
    document = (await client.get("/schema/openapi.json")).json()
    guarded = [r for r in routes(document) if r.roles]
    assert guarded or name == "logistics", f"{name} declares no staff route at all"

    failures = []
    for route in guarded:
        url = concrete(route)
        anonymous = await client.request(route.method, url)
        if anonymous.status_code != 401:
            failures.append(f"{route.method} {route.path} without a token: {anonymous.status_code}")
        for role in route.roles:
            wrong = WRONG_ROLE[role]
            refused = await client.request(
                route.method, url, headers={"Authorization": f"Bearer {tokens[wrong]}"}
            )
            if refused.status_code != 403:
                failures.append(
                    f"{route.method} {route.path} as {wrong} (needs {role}): {refused.status_code}"
                )
        forged = await client.request(
            route.method, url, headers={"Authorization": "Bearer cbs_not-a-real-token"}
        )
        if forged.status_code != 401:
            failures.append(
                f"{route.method} {route.path} with a forged token: {forged.status_code}"
            )
    assert not failures, "\n".join(failures)


async def test_consumer_and_patient_routes_refuse_a_missing_or_forged_credential(
    running: tuple[str, AsyncTestClient[Litestar]],
) -> None:
    _, client = running
    document = (await client.get("/schema/openapi.json")).json()
    failures = []
    for route in routes(document):
        url = concrete(route)
        if consumer_access.SECURITY_SCHEME in route.schemes:
            for headers in ({}, {"X-API-Key": "cbk_made-up"}):
                answer = await client.request(route.method, url, headers=headers)
                if answer.status_code != 401:
                    failures.append(f"{route.method} {route.path} {headers}: {answer.status_code}")
        if PATIENT_SCHEME in route.schemes:
            anonymous = await client.request(route.method, url)
            forged = await client.request(
                route.method, url, headers={"Authorization": "Bearer cbp_made-up"}
            )
            # A forged token is told apart from no token only as "no such inquiry for it".
            if anonymous.status_code != 401 or forged.status_code not in (401, 404):
                failures.append(
                    f"{route.method} {route.path}: {anonymous.status_code}, {forged.status_code}"
                )
        if PARTNER_SCHEME in route.schemes:
            # A webhook partner's reply-API token: none, a forged one or a staff token is a 401.
            for headers in ({}, {"Authorization": "Bearer cbw_made-up"}):
                answer = await client.request(route.method, url, headers=headers)
                if answer.status_code != 401:
                    failures.append(f"{route.method} {route.path} {headers}: {answer.status_code}")
    assert not failures, "\n".join(failures)


async def test_every_route_without_credentials_is_meant_to_be_public(
    running: tuple[str, AsyncTestClient[Litestar]],
) -> None:
    name, client = running
    document = (await client.get("/schema/openapi.json")).json()
    open_routes = {(r.method, r.path) for r in routes(document) if not r.schemes}

    unexpected = open_routes - PUBLIC["*"] - PUBLIC[name]
    assert not unexpected, f"{name} routes with no staff guard and not on the public list: " + (
        ", ".join(f"{m} {p}" for m, p in sorted(unexpected))
    )
