"""Consent per purpose, never bundled, in an append-only log: the patient grants and withdraws
with their token, and a withdrawal stops the processing it covered."""

from __future__ import annotations

from typing import Any, get_args

import asyncpg
import pytest

from contracts.inquiries import ConsentPurpose
from services.runtime.messaging.bus import Bus
from tests.inquiry_samples import DISCHARGE
from tests.integration.inquiries.casefile import (
    CASES,
    CONFIRMATION,
    Client,
    footprint,
    move,
    patient,
    published,
    settled,
    step,
    submit,
    to_accepted,
)

PURPOSES: tuple[str, ...] = get_args(ConsentPurpose)


async def consent(
    client: Client, submitted: dict[str, Any], purpose: str, *, granted: bool
) -> list[dict[str, Any]]:
    response = await client.post(
        f"/v1/inquiries/{submitted['id']}/consents",
        json={"purpose": purpose, "granted": granted, "version": "2026-11"},
        headers=patient(submitted),
    )
    assert response.status_code == 201, response.text
    log: list[dict[str, Any]] = response.json()
    return log


async def test_each_purpose_is_granted_and_withdrawn_on_its_own_and_every_word_is_kept(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    bus: Bus,
    casedb: asyncpg.Connection,
) -> None:
    # health_data_processing last: withdrawing it closes the case.
    order = [p for p in PURPOSES if p != "health_data_processing"] + ["health_data_processing"]
    for purpose in order:
        await consent(client, submitted, purpose, granted=True)
        await consent(client, submitted, purpose, granted=False)

    own = await client.get(f"/v1/inquiries/{submitted['id']}/consents", headers=patient(submitted))
    staff_view = await client.get(f"{CASES}/{submitted['id']}/consents", headers=coordinator)

    assert own.json() == staff_view.json()
    log = own.json()
    assert [(c["purpose"], c["granted"]) for c in log] == [
        ("health_data_processing", True),
        *((p, g) for p in order for g in (True, False)),
    ]
    assert {(c["version"], c["given_by"]) for c in log} == {("2026-11", "patient")}
    assert [c["at"] for c in log] == sorted(c["at"] for c in log)
    await settled(casedb, bus)
    withdrawn = [e for s, e in await published(bus) if s.endswith(".consent_withdrawn.v1")]
    assert [e["purpose"] for e in withdrawn] == order


async def test_withdrawing_consent_to_health_data_processing_cancels_an_open_case(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    bus: Bus,
    casedb: asyncpg.Connection,
) -> None:
    await move(client, coordinator, submitted["id"], "in_review")

    await consent(client, submitted, "health_data_processing", granted=False)

    view = await client.get(f"/v1/inquiries/{submitted['id']}", headers=patient(submitted))
    assert view.json()["status"] == "cancelled"
    later = await client.post(
        f"{CASES}/{submitted['id']}/transitions",
        json={"to": "offer_sent"},
        headers=coordinator | {"If-Match": '"3"'},
    )
    assert later.status_code == 409
    await settled(casedb, bus)
    subjects = [s.rsplit(".", 2)[-2] for s, _ in await published(bus)]
    assert subjects[-3:] == ["consent_withdrawn", "status_changed", "cancelled"]


async def test_without_consent_to_health_data_processing_a_case_in_treatment_moves_no_further(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: Any,
    bus: Bus,
) -> None:
    inquiry_id = await to_accepted(client, coordinator, submitted)
    await step(client, coordinator, inquiry_id, "confirmation", CONFIRMATION)
    await move(client, coordinator, inquiry_id, "in_treatment")

    await consent(client, submitted, "health_data_processing", granted=False)
    before = await footprint(casedb, bus)
    refused = await client.post(
        f"{CASES}/{inquiry_id}/discharge",
        json=DISCHARGE,
        headers=coordinator | {"If-Match": f'"{before["cases"][0][2]}"'},
    )

    assert refused.status_code == 409
    assert "withdrew consent" in refused.json()["detail"]
    assert before["cases"][0][1] == "in_treatment"
    assert await footprint(casedb, bus) == before


async def test_without_partner_sharing_nothing_is_booked(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: Any,
    bus: Bus,
) -> None:
    inquiry_id = await to_accepted(client, coordinator, submitted)
    await consent(client, submitted, "partner_sharing", granted=False)
    before = await footprint(casedb, bus)

    refused = await client.post(
        f"{CASES}/{inquiry_id}/confirmation",
        json=CONFIRMATION,
        headers=coordinator | {"If-Match": f'"{before["cases"][0][2]}"'},
    )
    assert refused.status_code == 409
    assert "share data with logistics partners" in refused.json()["detail"]
    assert await footprint(casedb, bus) == before

    without_bookings = CONFIRMATION | {"plan": CONFIRMATION["plan"] | {"services": {}}}
    confirmed = await step(client, coordinator, inquiry_id, "confirmation", without_bookings)
    assert confirmed["status"] == "confirmed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "everything", "granted": True, "version": "1"}, "purpose"),
        ({"purposes": ["marketing", "partner_sharing"], "granted": True, "version": "1"}, None),
        ({"purpose": "marketing", "granted": True}, "version"),
        ({"purpose": "marketing", "granted": "yes", "version": "1"}, "granted"),
    ],
)
async def test_a_bad_or_bundled_consent_is_a_400_and_records_nothing(
    client: Client,
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
    body: dict[str, Any],
    field: str | None,
    bus: Bus,
) -> None:
    before = await footprint(casedb, bus)

    response = await client.post(
        f"/v1/inquiries/{submitted['id']}/consents", json=body, headers=patient(submitted)
    )

    assert response.status_code == 400, response.text
    if field is not None:
        assert field in {e["field"] for e in response.json()["errors"]}
    assert await footprint(casedb, bus) == before


async def test_consent_needs_the_patients_own_token(
    client: Client,
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
    bus: Bus,
) -> None:
    other = await submit(client)
    before = await footprint(casedb, bus)
    url = f"/v1/inquiries/{submitted['id']}/consents"
    body = {"purpose": "marketing", "granted": True, "version": "1"}

    foreign = await client.post(url, json=body, headers=patient(other))
    missing = await client.post(url, json=body)
    listing = await client.get(url, headers=patient(other))

    assert (foreign.status_code, missing.status_code, listing.status_code) == (404, 401, 404)
    assert await footprint(casedb, bus) == before
