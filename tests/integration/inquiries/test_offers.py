"""Treatment offers: sending and superseding, acceptance by the patient or a coordinator, and
expiry by the scheduler."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from services.inquiries.app import InquiriesSettings, create_app
from services.inquiries.usecases.offers import expire_due
from services.runtime.core.db import create_pool
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.outbox import Outbox
from tests.integration.inquiries.casefile import (
    CASES,
    Client,
    as_site,
    case,
    footprint,
    move,
    offer,
    patient,
    published,
    settled,
    step,
    submit,
)
from tests.support import eventually


async def in_review(client: Client, coordinator: dict[str, str], inquiry: dict[str, Any]) -> str:
    await move(client, coordinator, inquiry["id"], "in_review")
    return str(inquiry["id"])


def changed(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    programme = body["programmes"][0]
    for name, value in changes.items():
        if name in body:
            body[name] = value
        elif value is ...:
            del programme[name]
        else:
            programme[name] = value
    return body


PAST = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (
            changed(offer(), total="99.00", advance="100.00", valid_until=PAST),
            422,
            {"valid_until", "programmes[0].total", "programmes[0].advance"},
        ),
        (changed(offer(), total="21500"), 400, {"programmes[0].total"}),
        (changed(offer(), total="-1.00"), 400, {"programmes[0].total"}),
        (changed(offer(), procedures=[]), 400, {"programmes[0].procedures"}),
        (changed(offer(), physician=...), 400, {"programmes[0].physician"}),
        (changed(offer(), programmes=[]), 400, {"programmes"}),
        (changed(offer(), valid_until="2027-01-01T00:00:00"), 400, {"valid_until"}),
        (changed(offer(), price_binding=True), 400, {"programmes[0].price_binding"}),
    ],
)
async def test_a_bad_offer_is_refused_naming_the_field_and_writes_nothing(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
    body: dict[str, Any],
    status: int,
    fields: set[str],
    bus: Bus,
) -> None:
    inquiry_id = await in_review(client, coordinator, submitted)
    before = await footprint(casedb, bus)

    response = await client.post(
        f"{CASES}/{inquiry_id}/offers", json=body, headers=coordinator | {"If-Match": '"2"'}
    )

    assert response.status_code == status, response.text
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert await footprint(casedb, bus) == before


async def test_an_offer_before_review_is_409_naming_the_allowed_states(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any], casedb: Any
) -> None:
    response = await client.post(
        f"{CASES}/{submitted['id']}/offers",
        json=offer(),
        headers=coordinator | {"If-Match": '"1"'},
    )

    assert response.status_code == 409
    assert response.json()["allowed"] == ["in_review", "declined", "cancelled"]
    assert await casedb.fetchval("SELECT count(*) FROM offers") == 0


async def test_the_patient_sees_the_offer_stored_encrypted_and_marked_non_binding(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any], casedb: Any
) -> None:
    inquiry_id = await in_review(client, coordinator, submitted)
    await step(client, coordinator, inquiry_id, "offers", offer())

    view = (await client.get(f"/v1/inquiries/{inquiry_id}", headers=patient(submitted))).json()

    (sent,) = view["offers"]
    assert (sent["version"], sent["state"], sent["non_binding"]) == (1, "open", True)
    assert "non-binding" in sent["disclaimer"]
    assert sent["programmes"][0]["total"] == "21500.00"
    assert sent["currency"] == "EUR"
    assert [e["kind"] for e in view["timeline"]][-1] == "offer_sent"
    raw = await casedb.fetchval("SELECT encode(body, 'escape') FROM offers")
    assert "mitral valve repair" not in raw
    assert "Weber" not in raw


async def test_a_new_offer_supersedes_the_open_one_which_can_no_longer_be_accepted(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: Any,
    bus: Bus,
) -> None:
    inquiry_id = await in_review(client, coordinator, submitted)
    await step(client, coordinator, inquiry_id, "offers", offer())
    await step(client, coordinator, inquiry_id, "offers", offer())
    before = await footprint(casedb, bus)

    superseded = await client.post(
        f"/v1/inquiries/{inquiry_id}/offers/1/accept", headers=patient(submitted)
    )
    unknown = await client.post(
        f"/v1/inquiries/{inquiry_id}/offers/9/accept", headers=patient(submitted)
    )

    assert superseded.status_code == 409
    assert "superseded" in superseded.json()["detail"]
    assert unknown.status_code == 404
    assert await footprint(casedb, bus) == before
    assert before["offer_states"] == [(1, "superseded"), (2, "open")]


async def test_a_coordinator_accepts_on_the_patients_behalf_with_the_current_version(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any]
) -> None:
    inquiry_id = await in_review(client, coordinator, submitted)
    await step(client, coordinator, inquiry_id, "offers", offer())

    stale = await client.post(
        f"{CASES}/{inquiry_id}/offers/1/accept", headers=coordinator | {"If-Match": '"2"'}
    )
    accepted = await step(client, coordinator, inquiry_id, "offers/1/accept")

    assert stale.status_code == 412
    assert accepted["status"] == "accepted"
    assert accepted["offers"][0]["accepted_by"] == "Carla Coordinator"


async def test_acceptance_with_a_wrong_token_or_another_inquirys_token_is_refused(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: Any,
    bus: Bus,
) -> None:
    inquiry_id = await in_review(client, coordinator, submitted)
    await step(client, coordinator, inquiry_id, "offers", offer())
    other = await submit(client)
    before = await footprint(casedb, bus)
    url = f"/v1/inquiries/{inquiry_id}/offers/1/accept"

    wrong = await client.post(url, headers={"Authorization": "Bearer cbp_guessed"})
    foreign = await client.post(url, headers=patient(other))
    missing = await client.post(url)
    staff_token = await client.post(url, headers=coordinator)

    assert [r.status_code for r in (wrong, foreign, missing, staff_token)] == [404, 404, 401, 404]
    assert await footprint(casedb, bus) == before


async def test_an_offer_past_its_validity_expires_and_cannot_be_accepted(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any], bus: Bus, casedb: Any
) -> None:
    inquiry_id = await in_review(client, coordinator, submitted)
    await step(
        client, coordinator, inquiry_id, "offers", offer(datetime.now(UTC) + timedelta(seconds=1))
    )

    async def expired() -> bool:
        return (await case(client, coordinator, inquiry_id))["status"] == "expired"

    await eventually(expired)
    late = await client.post(
        f"/v1/inquiries/{inquiry_id}/offers/1/accept", headers=patient(submitted)
    )
    view = await case(client, coordinator, inquiry_id)
    assert late.status_code == 409
    assert view["offers"][0]["state"] == "expired"
    assert [e["kind"] for e in view["timeline"]][-2:] == ["status_changed", "offer_expired"]
    await settled(casedb, bus)
    changes = [
        (e["from_status"], e["to_status"])
        for s, e in await published(bus)
        if s == "inquiries.inquiry.status_changed.v1"
    ]
    assert changes[-1] == ("offer_sent", "expired")
    # An expired case is reviewed again and gets a fresh offer.
    await move(client, coordinator, inquiry_id, "in_review")
    await step(client, coordinator, inquiry_id, "offers", offer())


async def test_competing_schedulers_expire_each_offer_exactly_once(
    client: Client,
    coordinator: dict[str, str],
    casedb: asyncpg.Connection,
    database_url: str,
) -> None:
    ids = []
    for _ in range(6):
        inquiry = await submit(client)
        await in_review(client, coordinator, inquiry)
        await step(client, coordinator, inquiry["id"], "offers", offer())
        ids.append(inquiry["id"])
    pool = await create_pool(database_url, schema="inquiries", min_size=3, max_size=3)
    outbox = Outbox(source="/carebridge/inquiries", schema="inquiries")
    try:
        # Due now, for this service's own scheduler and two more replicas at once.
        await casedb.execute("UPDATE offers SET valid_until = now() - interval '1 second'")
        counts = await asyncio.gather(
            *(expire_due(pool, outbox, now=datetime.now(UTC), limit=2) for _ in range(2))
        )
    finally:
        await pool.close()

    async def all_expired() -> bool:
        statuses = await casedb.fetch("SELECT status FROM inquiries")
        return {r["status"] for r in statuses} == {"expired"}

    await eventually(all_expired)
    assert sum(counts) <= len(ids)
    expiries = await casedb.fetch(
        "SELECT inquiry_id, count(*) AS n FROM timeline WHERE kind = 'offer_expired' "
        "GROUP BY inquiry_id"
    )
    assert sorted(str(r["inquiry_id"]) for r in expiries) == sorted(ids)
    assert {r["n"] for r in expiries} == {1}


async def test_an_offer_that_fell_due_while_the_service_was_down_expires_after_restart(
    inquiries_settings: InquiriesSettings,
    coordinator: dict[str, str],
    casedb: asyncpg.Connection,
    site_key: str,
) -> None:
    async with AsyncTestClient(create_app(inquiries_settings)) as first:
        inquiry = await submit(as_site(first, site_key))
        await in_review(first, coordinator, inquiry)
        soon = datetime.now(UTC) + timedelta(seconds=1)
        await step(first, coordinator, inquiry["id"], "offers", offer(soon))

    async def due() -> bool:
        return bool(await casedb.fetchval("SELECT valid_until <= now() FROM offers"))

    await eventually(due)
    assert await casedb.fetchval("SELECT status FROM inquiries") == "offer_sent"

    async with AsyncTestClient(create_app(inquiries_settings)):

        async def expired() -> bool:
            return await casedb.fetchval("SELECT status FROM inquiries") == "expired"

        await eventually(expired)
