"""Schemathesis against every service's own OpenAPI document: each service runs as it does in
production (its own process, granian, real PostgreSQL and NATS), and generated requests — as an
admin with an API key, so guarded routes are reached — must never get a 5xx, and every answer
must match the document.

Examples per operation are few, so the suite stays fast; FUZZ_EXAMPLES raises them for a longer
hunt (a failing example is printed as a curl command)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from deploy.api_documents import SERVICES
from deploy.embedded import free_port
from services.content.usecases.seeding import seed_content
from services.runtime.access import api_keys, staff
from services.runtime.core.db import create_pool
from services.runtime.core.settings import as_environ
from services.runtime.messaging.outbox import Outbox
from tests.support.databases import DatabasePool
from tests.support.servers import delete_streams
from tests.support.service_env import every_service_environ, service_settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
READY_DEADLINE = 30.0
CHECKS = [not_a_server_error, response_schema_conformance]


def _credentials(database_url: str) -> dict[str, str]:
    async def issue() -> dict[str, str]:
        conn = await asyncpg.connect(database_url)
        try:
            _, token = await staff.create_token(conn, person="fuzz-admin", roles=("admin",))
            _, key = await api_keys.create_api_key(
                conn, name="fuzz-site", origins=(), rate_per_minute=10**9
            )
        finally:
            await conn.close()
        return {"Authorization": f"Bearer {token}", "X-API-Key": key}

    return asyncio.run(issue())


def _load_catalogue(database_url: str) -> int:
    """The seed catalogue, published, so reads answer 200 with bodies the checks validate
    (an empty catalogue answers mostly 404s and empty pages)."""

    async def load() -> int:
        pool = await create_pool(database_url, schema="content", min_size=1, max_size=2)
        try:
            outbox = Outbox(source="/carebridge/content", schema="content")
            report = await seed_content(pool, outbox, now=datetime.now(UTC), review_required=False)
        finally:
            await pool.close()
        return report.published

    return asyncio.run(load())


@dataclass(frozen=True)
class Served:
    """A service running as its own process, on a database and a namespace of its own."""

    url: str
    # An admin's token and an API key, issued before the service started (it reads the keys
    # once, then every API_KEY_REFRESH).
    headers: dict[str, str]


@pytest.fixture(scope="module", params=[d.name for d in SERVICES])
def served(
    request: pytest.FixtureRequest,
    database_pool: DatabasePool,
    nats_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """One process per service for all of its tests here (a start is about 1.5 s of CPU):
    tests/support/groups.py keeps a service's tests on one worker, and the read-only tests
    come before the generated requests, which may change what they find."""
    name = asyncio.run(database_pool.take())
    namespace = f"t{uuid.uuid4().hex[:10]}"
    settings = service_settings(database_pool.url(name), nats_url, namespace)
    try:
        if request.param == "content":
            assert _load_catalogue(settings.database_url) > 5
        headers = _credentials(settings.database_url)
        port = free_port()
        env = as_environ(settings)
        env |= {
            "PORT": str(port),
            "LOG_FORMAT": "json",
            **every_service_environ("f1"),
        }
        log = tmp_path_factory.mktemp(f"fuzz-{request.param}") / f"{request.param}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", f"services.{request.param}"],
                cwd=REPO,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, process, log)
            yield Served(url, headers)
        finally:
            process.terminate()
            process.wait(15)
    finally:
        asyncio.run(delete_streams(nats_url, namespace))
        asyncio.run(database_pool.give_back(name))


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the service exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the service was not ready in {READY_DEADLINE}s:\n{log.read_text()}")


# Reads of the loaded catalogue that must answer 200, each body checked against the document.
# Each read with a text its answer must hold, so an empty page cannot pass.
CATALOGUE_READS = (
    ("/v1/{collection}", {"collection": "conditions"}, {}, "mitral"),
    ("/v1/{collection}", {"collection": "treatments"}, {"locale": "de"}, "mitral"),
    ("/v1/search", {}, {"q": "mitral"}, "mitral"),
    ("/v1/sync", {}, {}, "mitral"),
    ("/v1/editorial/{collection}", {"collection": "conditions"}, {}, "mitral"),
    (
        "/v1/{collection}/{slug}",
        {"collection": "conditions", "slug": "mitral-valve-insufficiency"},
        {},
        "mitral",
    ),
    (
        "/v1/{collection}/{slug}",
        {"collection": "treatments", "slug": "mitral-valve-repair"},
        {"locale": "de", "include": "related_conditions,related_services"},
        "mitral",
    ),
    (
        "/v1/{collection}/{slug}",
        {"collection": "services", "slug": "airport-transfer"},
        {},
        "airport-transfer",
    ),
    (
        "/v1/{collection}",
        {"collection": "conditions"},
        {"fields": "title,sections,faqs,trust", "include": "related_treatments"},
        "mitral",
    ),
)


@pytest.mark.parametrize("served", ["content"], indirect=True)
def test_the_catalogues_reads_answer_200_with_bodies_that_match_the_document(
    served: Served,
) -> None:
    service_url, headers = served.url, served.headers
    document: dict[str, Any] = httpx.get(f"{service_url}/schema/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    for path, path_parameters, query, expected in CATALOGUE_READS:
        operation = schema[path]["GET"]
        case = operation.Case(path_parameters=path_parameters, query=query)
        response = case.call(base_url=service_url, headers=headers, timeout=10)
        assert response.status_code == 200, (path, query, response.text)
        assert expected in response.text, (path, query, response.text)
        case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize("served", ["content"], indirect=True)
def test_a_json_ld_read_and_a_revalidation_match_the_document(served: Served) -> None:
    service_url = served.url
    document: dict[str, Any] = httpx.get(f"{service_url}/schema/openapi.json").json()
    operation = schemathesis.openapi.from_dict(document)["/v1/{collection}/{slug}"]["GET"]
    mitral = {"collection": "conditions", "slug": "mitral-valve-insufficiency"}
    ld = operation.Case(path_parameters=mitral, headers={"Accept": "application/ld+json"})
    ld_answer = ld.call(base_url=service_url, timeout=10)
    etag = httpx.get(f"{service_url}/v1/conditions/mitral-valve-insufficiency").headers["etag"]
    again = operation.Case(path_parameters=mitral, headers={"If-None-Match": etag})
    again_answer = again.call(base_url=service_url, timeout=10)

    assert ld_answer.status_code == 200, ld_answer.text
    assert ld_answer.headers["content-type"][0].startswith("application/ld+json")
    assert ld_answer.json()["@type"] == "MedicalWebPage"
    ld.validate_response(ld_answer, checks=CHECKS)
    assert again_answer.status_code == 304
    again.validate_response(again_answer, checks=CHECKS)


def test_the_docs_page_loads_every_script_stylesheet_and_icon_from_the_service_itself(
    served: Served,
) -> None:
    """No CDN: on a network without one the page must still work."""
    service_url = served.url
    page = httpx.get(f"{service_url}/schema", timeout=10)
    loaded = _loaded_urls(page.text)
    answers = {url: httpx.get(f"{service_url}{url}", timeout=10) for url in loaded}

    assert page.status_code == 200
    assert loaded, page.text
    assert [u for u in loaded if not u.startswith("/")] == []
    assert {u: a.status_code for u, a in answers.items()} == dict.fromkeys(loaded, 200)
    assert all(len(a.content) > 0 for a in answers.values())


def _loaded_urls(html: str) -> list[str]:
    """Every URL a page's <script src> and <link href> name."""
    urls: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            wanted = {"script": "src", "link": "href"}.get(tag)
            urls.extend(v for k, v in attrs if k == wanted and v)

    Collect().feed(html)
    return urls


def test_hostile_requests_over_the_served_port_get_a_4xx_and_head_no_body(
    served: Served,
) -> None:
    """The cases of tests/integration/test_hostile_input.py through the real server (granian),
    which answers HEAD and reads bodies on its own."""
    service_url, headers = served.url, served.headers
    deep = b"[" * 1000 + b"]" * 1000
    replay = httpx.post(
        f"{service_url}/admin/dead-letters/{2**63}/replay", headers=headers, timeout=10
    )
    document = httpx.get(f"{service_url}/schema/openapi.json").json()
    bodies = [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in ("post", "put")
        if method in item and "{" not in path
    ]
    answers = {
        f"{method} {path}": httpx.request(
            method,
            f"{service_url}{path}",
            content=deep,
            headers={**headers, "Content-Type": "application/json"},
            timeout=10,
        ).status_code
        for method, path in bodies
    }
    got = httpx.get(f"{service_url}/health/live", timeout=10)
    head = httpx.head(f"{service_url}/health/live", timeout=10)

    assert replay.status_code == 400, replay.text
    # The partner reply API takes only a partner's token: it refuses the staff token before
    # reading the body (401). Every other route reads the body and refuses it (400).
    partners_only = {
        f"{method} {path}"
        for method, path in bodies
        if all(
            "partnerToken" in way
            for way in document["paths"][path][method.lower()].get("security", [{}])
        )
    }
    assert {k: v for k, v in answers.items() if v != 400} == dict.fromkeys(partners_only, 401), (
        answers
    )
    # Every service has body routes without a path parameter to send to: at least the admin
    # doors that issue staff tokens and API keys, which every service serves.
    assert {("POST", "/admin/staff-tokens"), ("POST", "/admin/api-keys")} <= set(bodies)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]


# Last: its requests may change the data the tests above read (tests share the process).
def test_generated_requests_get_no_5xx_and_answers_match_the_document(served: Served) -> None:
    service_url, headers = served.url, served.headers
    document: dict[str, Any] = httpx.get(f"{service_url}/schema/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=service_url, headers=headers, checks=CHECKS, timeout=10)

        try:
            exercise()
        except Exception as exc:  # noqa: BLE001 - every failing operation is reported at once
            failures.append(f"{operation.label}: {exc}")
    assert operations > 3
    assert not failures, "\n\n".join(failures)
