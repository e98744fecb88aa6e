"""Submitting an inquiry from a third-party site, as the public contract says."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.runtime.access import api_keys
from tests.inquiry_samples import SUBMISSION

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "inquiries"})
    # The catalogue, as content events would have filled it.
    await conn.execute(
        "INSERT INTO known_conditions (slug, revision, locales) "
        "VALUES ('mitral-valve-insufficiency', 1, '{en,de}')"
    )
    yield conn
    await conn.close()


async def count(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM inquiries"))


async def test_a_submission_is_accepted_with_a_status_url_and_an_access_token(
    client: Client, db: asyncpg.Connection
) -> None:
    response = await client.post("/v1/inquiries", json=SUBMISSION)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "submitted"
    assert body["status_url"] == f"/v1/inquiries/{body['id']}"
    assert body["access_token"].startswith("cbp_")
    assert response.headers["cache-control"] == "private, no-store"
    consents = await db.fetch(
        "SELECT purpose, granted, version, given_by FROM consents ORDER BY id"
    )
    assert [tuple(c.values()) for c in consents] == [
        (purpose, True, "2026-12", "patient")
        for purpose in (
            "health_data_processing",
            "review_by_staff",
            "forwarding_to_clinics",
            "partner_sharing",
        )
    ]


async def test_the_raw_tables_hold_no_plaintext_personal_data(
    client: Client, db: asyncpg.Connection
) -> None:
    await client.post("/v1/inquiries", json=SUBMISSION)

    dump = await db.fetchval(
        "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM inquiries) t"
    ) + await db.fetchval("SELECT coalesce(string_agg(t::text, ' '), '') FROM timeline t")
    raw = dump + " " + str(await db.fetchval("SELECT encode(personal, 'escape') FROM inquiries"))
    for secret in (
        "Olena",
        "Kovalenko",
        "olena@example.org",
        "380501234567",
        "regurgitation",
        "1961-04-02",
    ):
        assert secret not in raw, f"{secret!r} is stored in plain text"


async def test_the_patient_follows_the_inquiry_with_the_token_only(
    client: Client, db: asyncpg.Connection
) -> None:
    submitted = (await client.post("/v1/inquiries", json=SUBMISSION)).json()
    url = submitted["status_url"]

    own = await client.get(url, headers={"Authorization": f"Bearer {submitted['access_token']}"})
    other = await client.get(url, headers={"Authorization": "Bearer cbp_guess"})
    none = await client.get(url)

    assert own.status_code == 200
    assert own.json()["status"] == "submitted"
    assert [e["kind"] for e in own.json()["timeline"]] == ["submitted"]
    assert "patient" not in own.json()
    assert other.status_code == 404
    assert none.status_code == 401


async def test_racing_retries_with_one_idempotency_key_create_one_inquiry(
    client: Client, db: asyncpg.Connection
) -> None:
    headers = {"Idempotency-Key": "submit-7f3a"}

    answers = await asyncio.gather(
        *(client.post("/v1/inquiries", json=SUBMISSION, headers=headers) for _ in range(8))
    )

    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1, "every retry gets the first answer, token included"
    assert await count(db) == 1


async def test_an_idempotency_key_reused_for_another_submission_is_refused(
    client: Client, db: asyncpg.Connection
) -> None:
    headers = {"Idempotency-Key": "submit-1"}
    await client.post("/v1/inquiries", json=SUBMISSION, headers=headers)
    other = copy.deepcopy(SUBMISSION)
    other["description"] = "Something else entirely."

    response = await client.post("/v1/inquiries", json=other, headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await count(db) == 1


def broken(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(SUBMISSION)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = body
        for parent in parents:
            target = target[parent]
        if value is ...:
            del target[leaf]
        else:
            target[leaf] = value
    return body


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (
            broken(
                patient__email="not-an-email",
                patient__phone="0501",
                patient__sex="x",
                description="",
            ),
            400,
            {"patient.email", "patient.phone", "patient.sex", "description"},
        ),
        (broken(consent=...), 400, {"consent"}),
        (broken(consent__version="2019-01"), 422, {"consent.version"}),
        (broken(consent__marketing=True), 422, {"consent.marketing"}),
        (broken(consent__health_data_processing=...), 422, {"consent.health_data_processing"}),
        (broken(consent__sharing=True), 400, {"consent.sharing"}),
        (broken(services=["transfer", "limousine"]), 400, {"services[1]"}),
        (broken(patient__nickname="Ole"), 400, {"patient.nickname"}),
        (
            broken(
                consent__health_data_processing=False,
                condition_slug="no-such-condition",
                preferred_dates={"from": "2027-03-15", "to": "2027-02-01"},
                patient__date_of_birth="2030-01-01",
            ),
            422,
            {
                "consent.health_data_processing",
                "condition_slug",
                "preferred_dates.to",
                "patient.date_of_birth",
            },
        ),
    ],
)
async def test_bad_input_lists_every_problem_and_writes_nothing(
    client: Client, db: asyncpg.Connection, body: dict[str, Any], status: int, fields: set[str]
) -> None:
    response = await client.post("/v1/inquiries", json=body)

    assert response.status_code == status, response.text
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert await count(db) == 0
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_a_body_that_is_not_json_is_a_400(client: Client, db: asyncpg.Connection) -> None:
    response = await client.post(
        "/v1/inquiries", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"


async def test_a_submission_needs_the_sites_api_key_and_without_it_writes_nothing(
    client: Client, db: asyncpg.Connection
) -> None:
    key = client.headers.pop("X-API-Key")

    anonymous = await client.post("/v1/inquiries", json=SUBMISSION)
    forged = await client.post("/v1/inquiries", json=SUBMISSION, headers={"X-API-Key": "cbk_x"})

    assert anonymous.status_code == 401
    assert "X-API-Key" in anonymous.json()["detail"] or "x-api-key" in anonymous.json()["detail"]
    assert forged.status_code == 401
    assert await count(db) == 0
    keyed = await client.post("/v1/inquiries", json=SUBMISSION, headers={"X-API-Key": key})
    assert keyed.status_code == 201, keyed.text
    assert keyed.headers["ratelimit-policy"] == '"default";q=10000;w=60'


async def test_idempotency_keys_are_each_consumers_own(
    client: Client, db: asyncpg.Connection, database_url: str
) -> None:
    """Another consumer naming the same source and key neither gets the first answer (which
    holds the patient's access token) back nor is refused: its submission is its own."""
    conn = await asyncpg.connect(database_url)
    try:
        _, other_key = await api_keys.create_api_key(
            conn, name="copycat-site", origins=(), rate_per_minute=100
        )
    finally:
        await conn.close()
    headers = {"Idempotency-Key": "submit-42"}
    first = await client.post("/v1/inquiries", json=SUBMISSION, headers=headers)

    replayed = await client.post(
        "/v1/inquiries", json=SUBMISSION, headers=headers | {"X-API-Key": other_key}
    )
    again = await client.post("/v1/inquiries", json=SUBMISSION, headers=headers)

    assert (first.status_code, replayed.status_code) == (201, 201)
    assert replayed.json()["id"] != first.json()["id"]
    assert replayed.json()["access_token"] != first.json()["access_token"]
    assert again.json() == first.json(), "the first consumer's own retry still gets its answer"
    assert await count(db) == 2
