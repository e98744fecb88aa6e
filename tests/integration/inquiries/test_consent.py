"""Consent per purpose, never bundled, in an append-only log: the patient grants and withdraws
with their token, and a withdrawal stops the processing it covered."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from services.inquiries.domain.consent import CURRENT_VERSION, PUBLISHED
from services.runtime.messaging.bus import Bus
from tests.inquiry_samples import DISCHARGE, SUBMISSION
from tests.integration.inquiries.casefile import (
    CASES,
    CONFIRMATION,
    Client,
    case,
    footprint,
    move,
    patient,
    published,
    settled,
    step,
    submit,
    to_accepted,
)

PURPOSES: tuple[str, ...] = PUBLISHED[CURRENT_VERSION].purposes


async def consent(
    client: Client, submitted: dict[str, Any], purpose: str, *, granted: bool
) -> list[dict[str, Any]]:
    response = await client.post(
        f"/v1/inquiries/{submitted['id']}/consents",
        json={"purpose": purpose, "granted": granted, "version": CURRENT_VERSION},
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
        *((p, True) for p in PURPOSES),  # as ticked at submission
        *((p, g) for p in order for g in (True, False)),
    ]
    assert {(c["version"], c["given_by"]) for c in log} == {(CURRENT_VERSION, "patient")}
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


async def test_without_partner_sharing_no_booking_leaves_until_the_patient_grants_it(
    client: Client,
    coordinator: dict[str, str],
    casedb: Any,
    bus: Bus,
) -> None:
    submitted = await submit(client, consent=SUBMISSION["consent"] | {"partner_sharing": False})
    inquiry_id = await to_accepted(client, coordinator, submitted)

    confirmed = await step(client, coordinator, inquiry_id, "confirmation", CONFIRMATION)

    assert confirmed["status"] == "confirmed"
    await settled(casedb, bus)
    (sent,) = [e for s, e in await published(bus) if s.endswith(".confirmed.v1")]
    assert sent["bookings"] == []
    assert await casedb.fetchval("SELECT count(*) FROM disclosure_log") == 0
    view = await case(client, coordinator, inquiry_id)
    (blocked,) = view["blocked"]
    assert blocked["purpose"] == "partner_sharing"
    assert "has not given consent to partner_sharing" in blocked["reason"]
    assert {c["purpose"]: c["given"] for c in view["consent"]}["partner_sharing"] is False
    held = [e for e in view["timeline"] if e["kind"] == "bookings_held"]
    assert held[0]["detail"]["bookings"] == ["transfer", "interpreter"]

    await consent(client, submitted, "partner_sharing", granted=True)

    await settled(casedb, bus)
    (released,) = [e for s, e in await published(bus) if s.endswith(".bookings_released.v1")]
    assert (released["step"], [b["kind"] for b in released["bookings"]]) == (
        "confirmed",
        ["transfer", "interpreter"],
    )
    assert (await case(client, coordinator, inquiry_id))["blocked"] == []
    (disclosed,) = await casedb.fetch("SELECT legal_basis, consent_purpose FROM disclosure_log")
    assert disclosed["consent_purpose"] == "partner_sharing"
    assert f"against consent notice {CURRENT_VERSION}" in disclosed["legal_basis"]


async def test_a_submission_with_only_the_required_consent_waits_for_review_by_staff(
    client: Client, coordinator: dict[str, str], casedb: Any, bus: Bus
) -> None:
    only = {"version": CURRENT_VERSION, "health_data_processing": True}
    submitted = await submit(client, consent=only)
    before = await footprint(casedb, bus)

    refused = await client.post(
        f"{CASES}/{submitted['id']}/transitions",
        json={"to": "in_review"},
        headers=coordinator | {"If-Match": '"1"'},
    )

    assert refused.status_code == 409
    assert "review_by_staff" in refused.json()["detail"]
    assert await footprint(casedb, bus) == before
    view = await case(client, coordinator, submitted["id"])
    assert [(b["step"], b["purpose"]) for b in view["blocked"]] == [("review", "review_by_staff")]
    await consent(client, submitted, "review_by_staff", granted=True)
    await move(client, coordinator, submitted["id"], "in_review")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "partner_sharing", "granted": True, "version": "2019-01"}, "version"),
        ({"purpose": "marketing", "granted": True, "version": CURRENT_VERSION}, "purpose"),
    ],
)
async def test_a_grant_against_no_published_notice_is_a_422_and_records_nothing(
    client: Client,
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
    body: dict[str, Any],
    field: str,
    bus: Bus,
) -> None:
    before = await footprint(casedb, bus)

    response = await client.post(
        f"/v1/inquiries/{submitted['id']}/consents", json=body, headers=patient(submitted)
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await footprint(casedb, bus) == before


async def test_the_receipt_shows_each_purpose_its_notice_and_how_to_withdraw(
    client: Client, casedb: asyncpg.Connection
) -> None:
    submitted = await submit(
        client, consent={"version": CURRENT_VERSION, "health_data_processing": True}
    )
    await consent(client, submitted, "partner_sharing", granted=True)

    response = await client.get(
        f"/v1/inquiries/{submitted['id']}/consent-receipt", headers=patient(submitted)
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    receipt = response.json()
    given = {p["purpose"]: (p["given"], p["notice_version"]) for p in receipt["purposes"]}
    assert given == {
        "health_data_processing": (True, CURRENT_VERSION),
        "review_by_staff": (False, None),
        "forwarding_to_clinics": (False, None),
        "partner_sharing": (True, CURRENT_VERSION),
    }
    assert all(p["at"] for p in receipt["purposes"] if p["given"])
    assert '"granted": false' in receipt["how_to_withdraw"]


async def test_the_receipt_needs_the_patients_own_token(
    client: Client, casedb: asyncpg.Connection
) -> None:
    submitted, other = await submit(client), await submit(client)
    url = f"/v1/inquiries/{submitted['id']}/consent-receipt"

    foreign = await client.get(url, headers=patient(other))
    missing = await client.get(url)
    forged = await client.get(url, headers={"Authorization": "Bearer cbp_forged"})

    assert (foreign.status_code, missing.status_code, forged.status_code) == (404, 401, 404)


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
