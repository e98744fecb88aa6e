"""Third-party consumers: publishable keys bound to their origins and limited per visitor,
secret keys refused from browsers, two keys per consumer for rotation, anonymous callers
limited per address, CORS answered per key, body size limits; each refusal is problem+json."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar, Request, get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient
from litestar.types import HTTPScope

from services.runtime.access import api_keys, staff
from services.runtime.access.consumer_access import Ready, ReadyAnswers, consumer_only
from services.runtime.access.staff import staff_only
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.http.metrics import Metrics
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app
from tests.support import eventually, metrics_page, own_metrics_port

PROBLEM = "application/problem+json"
SITE = "https://heart-clinic-finder.example"


@get("/v1/things")
async def things() -> list[str]:
    return ["a"]


@post("/v1/submissions", **consumer_only())
async def submit(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    return {"consumer": request.state.consumer.name, "size": len(data)}


@get("/v1/staff-things", **staff_only("coordinator"))
async def staff_things() -> list[str]:
    return ["for staff"]


DEFINITION = ServiceDefinition(
    name="content",
    title="test service",
    description="consumer access under test",
    migrations=Path("/nonexistent"),
    default_port=0,
    route_handlers=(things, submit, staff_things),
)

Client = AsyncTestClient[Litestar]
MakeClient = Callable[..., Any]


@pytest.fixture
def make_client(settings: ServiceSettings) -> Callable[..., Any]:
    """A running app with some settings changed."""

    def make(**changes: str) -> Client:
        env = as_environ(settings)
        env |= {"API_KEY_REFRESH": "0.05", **own_metrics_port(), **changes}
        tuned = load_settings(ServiceSettings, environ=env)
        return AsyncTestClient(create_service_app(DEFINITION, tuned))

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> AsyncIterator[Client]:
    async with make_client(ANONYMOUS_RATE_LIMIT="3") as c:
        yield c


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


async def new_key(
    db: asyncpg.Connection, name: str, rate: int = 2, kind: api_keys.Kind = "secret"
) -> str:
    """A secret key (for a server), or a publishable one for the pages of SITE."""
    origins = (SITE,) if kind == "publishable" else ()
    _, key = await api_keys.create_api_key(
        db, name=name, origins=origins, rate_per_minute=rate, kind=kind
    )
    return key


def from_peer(app: Litestar, address: str) -> Litestar:
    """`app` as reached over a socket from `address` (the test client's peer is a name)."""
    front = app.front  # type: ignore[attr-defined]

    async def reached(scope: Any, receive: Any, send: Any) -> None:
        await front({**scope, "client": (address, 40000)}, receive, send)

    app.front = reached  # type: ignore[attr-defined]
    return app


async def test_a_key_has_its_own_limit_and_gets_429_with_retry_after_past_it(
    client: Client, db: asyncpg.Connection
) -> None:
    first, second = await new_key(db, "site-a"), await new_key(db, "site-b")

    started = time.monotonic()
    answers = [await client.get("/v1/things", headers={"X-API-Key": first}) for _ in range(3)]
    took = time.monotonic() - started

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["ratelimit-policy"] == '"default";q=2;w=60'
    assert answers[0].headers["ratelimit"] == '"default";r=1;t=30'
    refused = answers[2]
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["status"] == 429
    # The next token comes 30 s after the first was taken (2 a minute), less the time the
    # three requests took (1.6 s once on a loaded machine: exactly 30 does not hold then).
    assert math.ceil(30 - took) <= int(refused.headers["retry-after"]) <= 30
    # Another consumer is not held back by the first.
    assert (await client.get("/v1/things", headers={"X-API-Key": second})).status_code == 200


async def test_the_openapi_document_declares_the_rate_limit_fields_the_answers_carry(
    client: Client, db: asyncpg.Connection
) -> None:
    key = await new_key(db, "site-a", rate=1)
    document = (await client.get("/schema/openapi.json")).json()
    answers = [await client.get("/v1/things", headers={"X-API-Key": key}) for _ in range(2)]

    declared = document["paths"]["/v1/things"]["get"]["responses"]
    for answer in answers:
        names = set(declared[str(answer.status_code)]["headers"])
        assert {name.lower() for name in names} <= set(answer.headers), answer.status_code
    assert set(declared["429"]["headers"]) == {"RateLimit", "RateLimit-Policy", "Retry-After"}
    assert set(document["components"]["headers"]) >= {"RateLimit", "RateLimit-Policy"}
    # Probes are never limited, so their answers declare no such fields.
    assert not document["paths"]["/health/live"]["get"]["responses"]["200"].get("headers")


async def test_answers_ready_before_the_app_pass_the_same_checks_and_carry_the_same_fields(
    settings: ServiceSettings, db: asyncpg.Connection
) -> None:
    def ready(metrics: Metrics) -> ReadyAnswers:
        def answer(scope: HTTPScope, headers: dict[bytes, bytes]) -> Ready | None:
            if scope["path"] != "/v1/ready":
                return None
            body = b"ready:" + headers.get(b"x-echo", b"")
            return 200, [(b"content-type", b"text/plain")], body, "/v1/ready"

        return answer

    env = as_environ(settings)
    tuned = load_settings(ServiceSettings, environ={**env, "ANONYMOUS_RATE_LIMIT": "3"})
    key = await new_key(db, "site-a", rate=1, kind="publishable")
    async with AsyncTestClient(create_service_app(DEFINITION, tuned, ready=ready)) as client:
        keyed = await client.get("/v1/ready", headers={"X-API-Key": key, "Origin": SITE})
        limited = await client.get("/v1/ready", headers={"X-API-Key": key, "Origin": SITE})
        no_origin = await client.get("/v1/ready", headers={"X-API-Key": key})
        unknown = await client.get("/v1/ready", headers={"X-API-Key": "cb_sk_made-up"})
        anonymous = await client.get("/v1/ready", headers={"X-Echo": "hello"})
        by_app = await client.get("/v1/things")

    assert keyed.status_code == 200
    assert keyed.content == b"ready:"
    assert keyed.headers["ratelimit-policy"] == '"default";q=1;w=60'
    assert keyed.headers["access-control-allow-origin"] == SITE
    # Past the limit, or with a bad key, the ready answer is never sent.
    assert limited.status_code == 429
    assert no_origin.status_code == 403
    assert unknown.status_code == 401
    assert anonymous.content == b"ready:hello"
    assert anonymous.headers["ratelimit-policy"] == '"default";q=3;w=60'
    # Other paths still reach the app, with the layer's fields added there.
    assert by_app.json() == ["a"]
    assert by_app.headers["ratelimit-policy"] == '"default";q=3;w=60'


async def test_an_unknown_or_revoked_key_is_refused(client: Client, db: asyncpg.Connection) -> None:
    key = await new_key(db, "site-a")
    unknown = await client.get("/v1/things", headers={"X-API-Key": "cb_sk_made-up"})
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == "the API key is unknown or revoked"
    assert (await client.get("/v1/things", headers={"X-API-Key": key})).status_code == 200

    assert await api_keys.revoke_api_key(db, "site-a")

    async def refused() -> bool:
        answer = await client.get("/v1/things", headers={"X-API-Key": key})
        return answer.status_code == 401

    await eventually(refused)


async def test_cors_is_answered_for_the_origins_of_the_key(
    client: Client, db: asyncpg.Connection
) -> None:
    key = await new_key(db, "site-a", rate=100, kind="publishable")

    allowed = await client.get("/v1/things", headers={"X-API-Key": key, "Origin": SITE})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SITE
    exposed = allowed.headers["access-control-expose-headers"].split(", ")
    assert {"ratelimit", "ratelimit-policy"} <= set(exposed)
    assert allowed.headers["vary"].endswith("Origin")

    other = await client.get(
        "/v1/things", headers={"X-API-Key": key, "Origin": "https://evil.example"}
    )
    assert other.status_code == 403
    assert other.json()["detail"] == "origin https://evil.example may not use this API key"
    assert "access-control-allow-origin" not in other.headers
    assert other.headers["vary"] == "Origin"


async def test_a_publishable_key_without_an_origin_is_refused_as_a_replay_with_curl(
    client: Client, db: asyncpg.Connection
) -> None:
    key = await new_key(db, "site-a", rate=100, kind="publishable")
    assert key.startswith("cb_pk_")

    scraped = await client.get("/v1/things", headers={"X-API-Key": key})
    submitted = await client.post("/v1/submissions", json={"a": 1}, headers={"X-API-Key": key})

    for answer in (scraped, submitted):
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith(PROBLEM)
        assert "publishable key" in answer.json()["detail"]
        assert answer.headers["vary"] == "Origin"
    metrics = await metrics_page(client)
    assert 'http_refused_total{reason="no_origin"} 2.0' in metrics
    from_page = await client.get("/v1/things", headers={"X-API-Key": key, "Origin": SITE})
    assert from_page.status_code == 200


async def test_a_secret_key_sent_from_a_browser_page_is_refused(
    client: Client, db: asyncpg.Connection
) -> None:
    key = await new_key(db, "site-a", rate=100)
    assert key.startswith("cb_sk_")

    from_page = await client.get("/v1/things", headers={"X-API-Key": key, "Origin": SITE})
    from_server = await client.get("/v1/things", headers={"X-API-Key": key})

    assert from_page.status_code == 403
    assert "secret key" in from_page.json()["detail"]
    assert "access-control-allow-origin" not in from_page.headers
    assert from_server.status_code == 200
    # The answer depends on whether an Origin came: caches must keep them apart.
    assert from_server.headers["vary"] == "Origin"


async def test_a_publishable_key_is_limited_per_visitor_as_well_as_per_key(
    make_client: MakeClient, db: asyncpg.Connection
) -> None:
    key = await new_key(db, "site-a", rate=5, kind="publishable")
    app = from_peer(
        make_client(VISITOR_RATE_LIMIT="2", TRUSTED_PROXIES="10.0.0.0/8").app, "10.1.2.3"
    )

    async def visit(proxied: Client, visitor: str) -> int:
        headers = {"X-API-Key": key, "Origin": SITE, "X-Forwarded-For": visitor}
        return (await proxied.get("/v1/things", headers=headers)).status_code

    async with AsyncTestClient(app) as proxied:
        first = [await visit(proxied, "198.51.100.1") for _ in range(3)]
        # Another visitor of the same site has a bucket of its own, until the key's is empty.
        others = [await visit(proxied, f"198.51.100.{i}") for i in (2, 2, 3, 3)]

    assert first == [200, 200, 429]
    assert others == [200, 200, 200, 429]


async def test_two_keys_of_a_consumer_work_at_once_so_a_key_rotates_without_a_gap(
    client: Client, db: asyncpg.Connection
) -> None:
    old = await new_key(db, "site-a", rate=100, kind="publishable")
    new = await new_key(db, "site-a", rate=100, kind="publishable")
    with pytest.raises(api_keys.TooManyKeys):
        await new_key(db, "site-a", rate=100, kind="publishable")
    page = {"Origin": SITE}

    for key in (old, new):
        answer = await client.get("/v1/things", headers={"X-API-Key": key} | page)
        assert answer.status_code == 200
    old_id = await db.fetchval(
        "SELECT id FROM staff.api_keys WHERE key_hash = $1", api_keys.hash_key(old)
    )
    assert await api_keys.revoke_api_key(db, "site-a", key_id=old_id) == 1

    async def rotated() -> bool:
        retired = await client.get("/v1/things", headers={"X-API-Key": old} | page)
        current = await client.get("/v1/things", headers={"X-API-Key": new} | page)
        return (retired.status_code, current.status_code) == (401, 200)

    await eventually(rotated)


async def test_a_preflight_is_answered_for_origins_some_key_allows(
    client: Client, db: asyncpg.Connection
) -> None:
    await new_key(db, "site-a", kind="publishable")
    asks = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"}

    known = await client.options("/v1/submissions", headers={"Origin": SITE, **asks})
    assert known.status_code == 204
    assert known.headers["access-control-allow-origin"] == SITE
    assert "x-api-key" in known.headers["access-control-allow-headers"]
    assert "POST" in known.headers["access-control-allow-methods"]

    unknown = await client.options(
        "/v1/submissions", headers={"Origin": "https://evil.example", **asks}
    )
    assert unknown.status_code == 403
    assert "access-control-allow-origin" not in unknown.headers


async def test_anonymous_callers_are_limited_per_address_and_may_read_from_any_page(
    client: Client,
) -> None:
    answers = [await client.get("/v1/things", headers={"Origin": SITE}) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-policy"] == '"default";q=3;w=60'
    assert answers[0].headers["access-control-allow-origin"] == "*"
    # Probes are never limited; the scraper has a port of its own.
    for _ in range(5):
        assert (await client.get("/health/live")).status_code == 200
    metrics = await metrics_page(client)
    assert 'http_refused_total{reason="rate_limited"} 1.0' in metrics


async def test_without_an_anonymous_limit_nothing_is_limited(make_client: MakeClient) -> None:
    async with make_client(ANONYMOUS_RATE_LIMIT="0") as client:
        for _ in range(10):
            answer = await client.get("/v1/things")
            assert answer.status_code == 200
            assert "ratelimit" not in answer.headers
            assert "ratelimit-policy" not in answer.headers


async def test_a_route_for_consumers_needs_a_key(client: Client, db: asyncpg.Connection) -> None:
    key = await new_key(db, "site-a")

    anonymous = await client.post("/v1/submissions", json={"a": 1})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith(PROBLEM)
    assert "X-API-Key" in anonymous.json()["detail"] or "x-api-key" in anonymous.json()["detail"]

    with_key = await client.post("/v1/submissions", json={"a": 1}, headers={"X-API-Key": key})
    assert with_key.status_code == 201
    assert with_key.json() == {"consumer": "site-a", "size": 1}


async def test_a_body_over_the_limit_is_refused_with_413(
    make_client: MakeClient, db: asyncpg.Connection
) -> None:
    key = await new_key(db, "site-a")
    async with make_client(REQUEST_MAX_BODY="1000") as client:
        big = await client.post(
            "/v1/submissions", json={"a": "x" * 2000}, headers={"X-API-Key": key}
        )
        small = await client.post("/v1/submissions", json={"a": "x"}, headers={"X-API-Key": key})

    assert big.status_code == 413
    assert big.headers["content-type"].startswith(PROBLEM)
    assert small.status_code == 201


@pytest.mark.parametrize(
    ("name", "origins", "rate", "message"),
    [
        ("Site A", (), 10, "name 'Site A'"),
        ("site-a", ("https://site.example/path",), 10, "no path"),
        ("site-a", ("ftp://site.example",), 10, "scheme://host"),
        ("site-a", (), 0, "at least 1"),
    ],
)
async def test_a_bad_key_definition_is_refused_and_stores_nothing(
    db: asyncpg.Connection, name: str, origins: tuple[str, ...], rate: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await api_keys.create_api_key(db, name=name, origins=origins, rate_per_minute=rate)
    assert await db.fetchval("SELECT count(*) FROM staff.api_keys") == 0


async def test_anonymous_public_reads_are_for_any_page_with_or_without_an_origin(
    client: Client,
) -> None:
    plain = await client.get("/v1/things")
    from_page = await client.get("/v1/things", headers={"Origin": SITE})

    # A shared cache may hand either answer to any browser: both carry the field, and neither
    # depends on the Origin sent.
    for answer in (plain, from_page):
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "origin" not in answer.headers.get("vary", "").lower()
        assert "no-store" not in answer.headers.get("cache-control", "")


async def test_answers_of_staff_routes_are_never_cached_nor_shared_with_other_origins(
    client: Client, db: asyncpg.Connection
) -> None:
    _, token = await staff.create_token(db, person="Carla Coordinator", roles=("coordinator",))
    key = await new_key(db, "site-a", rate=100, kind="publishable")

    refused = await client.get("/v1/staff-things", headers={"Origin": SITE})
    served = await client.get(
        "/v1/staff-things", headers={"Origin": SITE, "Authorization": f"Bearer {token}"}
    )
    with_key = await client.get(
        "/v1/staff-things",
        headers={"Origin": SITE, "Authorization": f"Bearer {token}", "X-API-Key": key},
    )

    assert (refused.status_code, served.status_code, with_key.status_code) == (401, 200, 200)
    for answer in (refused, served, with_key):
        assert answer.headers["cache-control"] == "private, no-store"
        assert "access-control-allow-origin" not in answer.headers
