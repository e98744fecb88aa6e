"""Rate limits by identity on the real inquiries service: anonymous callers per address, staff
per token, patients per access token, sites per key; a burst from one address costs nobody
else a request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.inquiries.app import InquiriesSettings, create_app
from services.runtime.core.settings import as_environ, load_settings
from tests.integration.inquiries.casefile import CASES, patient, submit

Client = AsyncTestClient[Litestar]
PROXY = "203.0.113.7"


def tuned(settings: InquiriesSettings, **changes: str) -> InquiriesSettings:
    return load_settings(InquiriesSettings, environ=as_environ(settings) | changes)


@pytest.fixture
async def limited(inquiries_settings: InquiriesSettings) -> AsyncIterator[Client]:
    """Three anonymous requests a minute per address; no key sent unless a request adds it."""
    app = create_app(tuned(inquiries_settings, ANONYMOUS_RATE_LIMIT="3"))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        yield client


async def burst(client: Client, n: int, **headers: str) -> list[int]:
    return [(await client.get("/v1/nothing-here", headers=headers)).status_code for _ in range(n)]


async def test_a_burst_from_one_address_costs_a_coordinator_and_a_patient_nothing(
    limited: Client, site_key: str, coordinator: dict[str, str], casedb: Any
) -> None:
    limited.headers["X-API-Key"] = site_key
    submitted = await submit(limited)
    del limited.headers["X-API-Key"]

    assert await burst(limited, 4) == [404, 404, 404, 429]

    # The same address, with a staff token and with the patient's token: buckets of their own.
    case = await limited.get(f"{CASES}/{submitted['id']}", headers=coordinator)
    assert case.status_code == 200, case.text
    assert case.headers["ratelimit-policy"] == '"default";q=1200;w=60'
    taken = await limited.put(
        f"{CASES}/{submitted['id']}/coordinator",
        json={"coordinator": "Carla Coordinator"},
        headers=coordinator | {"If-Match": f'"{case.json()["version"]}"'},
    )
    assert taken.status_code == 200, taken.text
    status = await limited.get(submitted["status_url"], headers=patient(submitted))
    assert status.status_code == 200, status.text
    assert status.headers["ratelimit-policy"] == '"default";q=120;w=60'
    # Probes never were limited.
    assert (await limited.get("/health/live")).status_code == 200


async def test_guessed_tokens_spend_a_budget_of_their_own_per_address(
    inquiries_settings: InquiriesSettings, site_key: str, casedb: Any
) -> None:
    app = create_app(tuned(inquiries_settings, AUTH_FAILURE_RATE_LIMIT="2"))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        client.headers["X-API-Key"] = site_key
        submitted = await submit(client)
        del client.headers["X-API-Key"]
        url = submitted["status_url"]

        guesses = [
            (await client.get(url, headers={"Authorization": f"Bearer cbp_guess{i}"})).status_code
            for i in range(3)
        ]
        own = await client.get(url, headers=patient(submitted))
        anonymous = await client.get("/v1/nothing-here")

    assert guesses == [404, 404, 429]
    # Past the budget, this address's tokens wait too; anonymous reads are a bucket apart.
    assert own.status_code == 429
    assert anonymous.status_code == 404


def peer(app: Litestar, address: str) -> Litestar:
    """`app` as reached over a socket from `address` (the test client's peer is a name)."""
    front = app.front  # type: ignore[attr-defined]

    async def from_peer(scope: Any, receive: Any, send: Any) -> None:
        await front({**scope, "client": (address, 40000)}, receive, send)

    app.front = from_peer  # type: ignore[attr-defined]
    return app


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(
    inquiries_settings: InquiriesSettings,
) -> None:
    behind = tuned(inquiries_settings, ANONYMOUS_RATE_LIMIT="2", TRUSTED_PROXIES="10.0.0.0/8")
    app = peer(create_app(behind), "10.1.2.3")
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        # A client's own entry left of what the proxies wrote proves nothing: the right-most
        # address no trusted proxy wrote is the client.
        first = await burst(client, 3, **{"X-Forwarded-For": "1.1.1.1, 198.51.100.1, 10.9.9.9"})
        other = await burst(client, 2, **{"X-Forwarded-For": "2.2.2.2, 198.51.100.2"})
        same = await burst(client, 1, **{"X-Forwarded-For": "3.3.3.3, 198.51.100.1"})
        # The proxy itself, with no header, is one client among others.
        proxy = await burst(client, 1)

    assert first == [404, 404, 429]
    assert other == [404, 404]
    assert same == [429]
    assert proxy == [404]


async def test_a_forwarding_header_from_an_untrusted_peer_is_never_read(
    inquiries_settings: InquiriesSettings,
) -> None:
    direct = tuned(inquiries_settings, ANONYMOUS_RATE_LIMIT="2", TRUSTED_PROXIES="10.0.0.0/8")
    app = peer(create_app(direct), "192.0.2.50")
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        spoofed = [
            (await burst(client, 1, **{"X-Forwarded-For": f"198.51.100.{i}"}))[0] for i in range(3)
        ]
        forwarded = await burst(client, 1, Forwarded="for=198.51.100.77")

    assert spoofed == [404, 404, 429]
    assert forwarded == [429]


async def test_patient_answers_are_never_cached_nor_open_to_any_page(
    limited: Client, site_key: str, casedb: Any
) -> None:
    limited.headers["X-API-Key"] = site_key
    submitted = await submit(limited)
    del limited.headers["X-API-Key"]
    page = {"Origin": "https://anywhere.example"}

    anonymous = await limited.get(submitted["status_url"], headers=page)
    own = await limited.get(submitted["status_url"], headers=page | patient(submitted))

    assert (anonymous.status_code, own.status_code) == (401, 200)
    for answer in (anonymous, own):
        assert answer.headers["cache-control"] == "private, no-store"
        assert "access-control-allow-origin" not in answer.headers
