"""Submissions from browsers (a publishable key) carry a solved ALTCHA challenge from the
service: missing, wrong, expired or replayed solutions are refused and store nothing; one
visitor gets a bounded number of submissions an hour; a site's server (secret key) needs none."""

from __future__ import annotations

import base64
import copy
import json
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import altcha
import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.inquiries.app import InquiriesSettings, create_app
from services.runtime.access import api_keys
from services.runtime.core.settings import as_environ, load_settings
from tests.inquiry_samples import SUBMISSION

Client = AsyncTestClient[Litestar]
PAGE = "https://heart-clinic-finder.example"
PROBLEM = "application/problem+json"


@pytest.fixture
async def page_key(casedb: asyncpg.Connection) -> str:
    _, key = await api_keys.create_api_key(
        casedb,
        name="heart-clinic-finder",
        origins=(PAGE,),
        rate_per_minute=10_000,
        kind="publishable",
    )
    return key


@pytest.fixture
async def browser(inquiries_settings: InquiriesSettings, page_key: str) -> AsyncIterator[Client]:
    """A page of the site, in a browser: its publishable key and its Origin on every request.
    Cheap challenges, and two submissions an hour per visitor."""
    env = as_environ(inquiries_settings) | {
        "ALTCHA_COST": "2",
        "BROWSER_SUBMISSIONS_PER_VISITOR": "2",
    }
    app = create_app(load_settings(InquiriesSettings, environ=env))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        client.headers.update({"X-API-Key": page_key, "Origin": PAGE})
        yield client


async def solved(client: Client) -> str:
    """What the widget sends: a challenge of the service, solved, as base64 JSON."""
    answer = await client.get("/v1/altcha/challenge")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    challenge = altcha.Challenge.from_dict(answer.json())
    assert challenge.parameters.algorithm == "PBKDF2/SHA-256"
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


async def send(client: Client, proof: str | None) -> Any:
    headers = {} if proof is None else {"Altcha": proof}
    return await client.post("/v1/inquiries", json=copy.deepcopy(SUBMISSION), headers=headers)


async def stored(casedb: asyncpg.Connection) -> int:
    count: int = await casedb.fetchval("SELECT count(*) FROM inquiries")
    return count


async def test_a_browser_submission_with_a_solved_challenge_is_accepted_once(
    browser: Client, casedb: asyncpg.Connection
) -> None:
    proof = await solved(browser)

    first = await send(browser, proof)
    replayed = await send(browser, proof)

    assert first.status_code == 201, first.text
    assert first.headers["access-control-allow-origin"] == PAGE
    assert replayed.status_code == 403
    assert replayed.headers["content-type"].startswith(PROBLEM)
    assert "used before" in replayed.json()["detail"]
    assert await stored(casedb) == 1


def tampered(proof: str) -> str:
    """The same payload with a solution the challenge does not accept."""
    payload = json.loads(base64.b64decode(proof))
    payload["solution"]["counter"] += 1
    payload["solution"]["derivedKey"] = "ff" * 32
    return base64.b64encode(json.dumps(payload).encode()).decode()


def forged(proof: str) -> str:
    """A challenge of the sender's own making: easier, but not signed with our key."""
    payload = json.loads(base64.b64decode(proof))
    payload["challenge"]["parameters"]["cost"] = 1
    return base64.b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    ("spoil", "detail"),
    [
        (lambda _: None, "needs a solved proof-of-work challenge"),
        (lambda _: "not base64 at all!", "malformed or wrong"),
        (tampered, "malformed or wrong"),
        (forged, "malformed or wrong"),
    ],
    ids=["missing", "garbage", "wrong-solution", "forged-challenge"],
)
async def test_a_browser_submission_without_a_valid_solution_is_refused_and_stores_nothing(
    browser: Client, casedb: asyncpg.Connection, spoil: Any, detail: str
) -> None:
    answer = await send(browser, spoil(await solved(browser)))

    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert detail in answer.json()["detail"]
    assert await stored(casedb) == 0
    assert await casedb.fetchval("SELECT count(*) FROM spent_challenges") == 0


async def test_an_expired_challenge_is_refused(
    inquiries_settings: InquiriesSettings, page_key: str, casedb: asyncpg.Connection
) -> None:
    env = as_environ(inquiries_settings) | {"ALTCHA_COST": "2", "ALTCHA_TTL": "0.001"}
    app = create_app(load_settings(InquiriesSettings, environ=env))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        client.headers.update({"X-API-Key": page_key, "Origin": PAGE})
        # Expiry is in whole seconds: a challenge made now has expired within a second.
        proof = await solved(client)
        payload = json.loads(base64.b64decode(proof))
        payload["challenge"]["parameters"]["expiresAt"] -= 2
        late = base64.b64encode(json.dumps(payload).encode()).decode()
        answer = await send(client, late)

    assert answer.status_code == 403
    assert "expired" in answer.json()["detail"]
    assert await stored(casedb) == 0


async def test_one_visitor_gets_a_bounded_number_of_browser_submissions(
    browser: Client, casedb: asyncpg.Connection
) -> None:
    started = time.monotonic()
    answers = [await send(browser, await solved(browser)) for _ in range(3)]
    took = time.monotonic() - started

    assert [a.status_code for a in answers] == [201, 201, 429]
    # An hour after the first submission, less the time solving and sending took.
    assert math.ceil(3600 - took) <= int(answers[2].headers["retry-after"]) <= 3600
    assert await stored(casedb) == 2


async def test_a_site_server_with_its_secret_key_needs_no_challenge(
    client: Client, casedb: asyncpg.Connection
) -> None:
    answer = await send(client, None)

    assert answer.status_code == 201, answer.text


async def test_the_patient_follows_the_case_from_the_site_page_with_the_same_key(
    browser: Client, casedb: asyncpg.Connection
) -> None:
    """The status view of a site's page sends the publishable key beside the patient's token:
    the page's origin may read the answer, and no shared cache keeps it."""
    submitted = (await send(browser, await solved(browser))).json()

    status = await browser.get(
        submitted["status_url"],
        headers={"Authorization": f"Bearer {submitted['access_token']}"},
    )

    assert status.status_code == 200, status.text
    assert status.headers["access-control-allow-origin"] == PAGE
    assert status.headers["cache-control"] == "private, no-store"
