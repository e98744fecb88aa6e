"""An admin erases a closed case's personal data; an anonymous record stays, and every other
service is told to wipe its copies."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js.errors import NotFoundError

from contracts.inquiries import PersonalDataErased, inquiry_event_decoder
from contracts.registry import INQUIRY_ERASED
from services.runtime.access import staff
from services.runtime.messaging.bus import Bus
from tests.inquiry_samples import SUBMISSION, erased_left_in
from tests.integration.inquiries.casefile import CASES, move, offer, step
from tests.support import eventually

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "inquiries"})
    await conn.execute(
        "INSERT INTO known_conditions (slug, revision, locales) "
        "VALUES ('mitral-valve-insufficiency', 1, '{en,de}')"
    )
    yield conn
    await conn.close()


async def bearer(db: asyncpg.Connection, role: staff.Role) -> dict[str, str]:
    _, token = await staff.create_token(db, person=f"Ada {role}", roles=(role,))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def admin(db: asyncpg.Connection) -> dict[str, str]:
    return await bearer(db, "admin")


async def submit(client: Client, **headers: str) -> dict[str, Any]:
    response = await client.post("/v1/inquiries", json=SUBMISSION, headers=headers)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def close(db: asyncpg.Connection, inquiry_id: str, status: str = "cancelled") -> None:
    """As the lifecycle would leave it: closed by a coordinator."""
    await db.execute(
        "UPDATE inquiries SET status = $2, version = version + 1 WHERE id = $1",
        uuid.UUID(inquiry_id),
        status,
    )


async def row(db: asyncpg.Connection, inquiry_id: str) -> dict[str, Any]:
    found = await db.fetchrow("SELECT * FROM inquiries WHERE id = $1", uuid.UUID(inquiry_id))
    assert found is not None
    return dict(found.items())


async def outbox_events(db: asyncpg.Connection) -> list[object]:
    return [
        inquiry_event_decoder.decode(r["payload"])
        for r in await db.fetch("SELECT payload FROM outbox ORDER BY seq")
    ]


async def test_an_admin_erases_a_closed_case_and_an_anonymous_record_remains(
    client: Client, db: asyncpg.Connection, admin: dict[str, str]
) -> None:
    submitted = await submit(client, **{"Idempotency-Key": "retry-1"})
    inquiry = submitted["id"]
    await close(db, inquiry)
    before = await row(db, inquiry)

    response = await client.post(f"/v1/inquiries/{inquiry}/erasure", headers=admin)

    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["id"] == inquiry
    assert receipt["status"] == "cancelled"
    after = await row(db, inquiry)
    assert after["personal"] is None
    assert after["key_id"] is None
    assert after["erased_at"] is not None
    assert after["version"] == before["version"] + 1
    kept = ("id", "status", "condition_slug", "preferred_country", "services", "submitted_at")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert await db.fetchval("SELECT count(*) FROM idempotent_submissions") == 0
    kinds = await db.fetch("SELECT kind, detail FROM timeline ORDER BY id")
    assert [(r["kind"], msgspec.json.decode(r["detail"])) for r in kinds][-1] == (
        "erased",
        {"reason": "request", "by": "Ada admin"},
    )
    dump = await db.fetchval(
        "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM inquiries) t"
    ) + str(await db.fetchval("SELECT string_agg(t::text, ' ') FROM timeline t"))
    assert erased_left_in(dump) == []


async def test_after_erasure_the_patient_token_opens_nothing(
    client: Client, db: asyncpg.Connection, admin: dict[str, str]
) -> None:
    submitted = await submit(client)
    await close(db, submitted["id"])
    await client.post(f"/v1/inquiries/{submitted['id']}/erasure", headers=admin)

    view = await client.get(
        submitted["status_url"], headers={"Authorization": f"Bearer {submitted['access_token']}"}
    )

    assert view.status_code == 404
    assert erased_left_in(view.text) == []


async def test_a_retried_submission_after_erasure_no_longer_returns_the_old_answer(
    client: Client, db: asyncpg.Connection, admin: dict[str, str]
) -> None:
    first = await submit(client, **{"Idempotency-Key": "retry-2"})
    await close(db, first["id"])
    await client.post(f"/v1/inquiries/{first['id']}/erasure", headers=admin)

    again = await submit(client, **{"Idempotency-Key": "retry-2"})

    assert again["id"] != first["id"]
    assert again["access_token"] != first["access_token"]


async def test_the_erasure_is_announced_to_every_service(
    client: Client, db: asyncpg.Connection, admin: dict[str, str], bus: Bus
) -> None:
    submitted = await submit(client)
    await close(db, submitted["id"], "completed")

    response = await client.post(f"/v1/inquiries/{submitted['id']}/erasure", headers=admin)

    async def announced() -> PersonalDataErased | None:
        try:
            msg = await bus.js.get_last_msg(
                bus.stream(INQUIRY_ERASED.stream), bus.subject(INQUIRY_ERASED.subject())
            )
        except NotFoundError:
            return None
        event = inquiry_event_decoder.decode(msg.data)
        assert isinstance(event, PersonalDataErased)
        return event

    event = await eventually(announced)
    assert event.inquiry_id == submitted["id"]
    assert event.erased_at.isoformat() == response.json()["erased_at"].replace("Z", "+00:00")


async def test_erasing_twice_is_a_conflict_that_changes_nothing(
    client: Client, db: asyncpg.Connection, admin: dict[str, str]
) -> None:
    submitted = await submit(client)
    await close(db, submitted["id"])
    await client.post(f"/v1/inquiries/{submitted['id']}/erasure", headers=admin)
    await eventually(lambda: _outbox_empty(db))
    before = await row(db, submitted["id"])

    second = await client.post(f"/v1/inquiries/{submitted['id']}/erasure", headers=admin)

    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    assert "already erased" in second.json()["detail"]
    assert await row(db, submitted["id"]) == before
    assert await outbox_events(db) == []


async def _outbox_empty(db: asyncpg.Connection) -> bool:
    return await db.fetchval("SELECT count(*) FROM outbox") == 0


@pytest.mark.parametrize("status", ["submitted", "in_review", "offer_sent", "expired"])
async def test_an_open_case_is_not_erased_until_it_is_cancelled(
    client: Client, db: asyncpg.Connection, admin: dict[str, str], status: str
) -> None:
    submitted = await submit(client)
    if status != "submitted":
        await close(db, submitted["id"], status)
    await eventually(lambda: _outbox_empty(db))
    before = await row(db, submitted["id"])

    response = await client.post(f"/v1/inquiries/{submitted['id']}/erasure", headers=admin)

    assert response.status_code == 409
    assert f"still open ({status}); cancel it first" in response.json()["detail"]
    assert await row(db, submitted["id"]) == before
    assert await outbox_events(db) == []


async def test_erasing_an_unknown_inquiry_is_a_404(client: Client, admin: dict[str, str]) -> None:
    response = await client.post(f"/v1/inquiries/{uuid.uuid4()}/erasure", headers=admin)

    assert response.status_code == 404


async def test_only_an_admin_may_erase(client: Client, db: asyncpg.Connection) -> None:
    submitted = await submit(client)
    await close(db, submitted["id"])
    url = f"/v1/inquiries/{submitted['id']}/erasure"

    anonymous = await client.post(url)
    patient = await client.post(
        url, headers={"Authorization": f"Bearer {submitted['access_token']}"}
    )
    coordinator = await client.post(url, headers=await bearer(db, "coordinator"))

    assert [anonymous.status_code, patient.status_code, coordinator.status_code] == [
        401,
        401,
        403,
    ]
    assert (await row(db, submitted["id"]))["personal"] is not None


async def test_erasure_wipes_notes_offers_case_records_and_reasons_of_a_worked_case(
    client: Client, db: asyncpg.Connection, admin: dict[str, str]
) -> None:
    coordinator = await bearer(db, "coordinator")
    inquiry = (await submit(client))["id"]
    note = await client.post(
        f"{CASES}/{inquiry}/notes",
        json={"text": "Olena Kovalenko called: regurgitation worse"},
        headers=coordinator,
    )
    assert note.status_code == 201, note.text
    await move(client, coordinator, inquiry, "in_review")
    await step(client, coordinator, inquiry, "offers", offer())
    await step(
        client,
        coordinator,
        inquiry,
        "transitions",
        {"to": "cancelled", "reason": "Olena Kovalenko chose a clinic at home"},
    )

    assert (await client.post(f"/v1/inquiries/{inquiry}/erasure", headers=admin)).is_success

    key = uuid.UUID(inquiry)
    for table in ("notes", "offers"):
        bodies = await db.fetch(f"SELECT body FROM {table} WHERE inquiry_id = $1", key)
        assert bodies
        assert all(r["body"] is None for r in bodies), table
    assert (
        await db.fetchval(
            "SELECT count(*) FROM case_records WHERE inquiry_id = $1 AND body IS NOT NULL", key
        )
        == 0
    )
    details = await db.fetch("SELECT detail FROM timeline WHERE inquiry_id = $1", key)
    assert not any("Olena" in r["detail"] for r in details)
    view = await client.get(f"{CASES}/{inquiry}", headers=coordinator)
    assert view.status_code == 200, view.text
    assert "Olena" not in view.text
