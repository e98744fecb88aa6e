"""The coordinators' case lifecycle: every step, every illegal transition, optimistic concurrency,
and what each step announces."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from contracts.inquiries import InquiryStatus
from services.inquiries.domain.lifecycle import DEDICATED_STEPS, STATUSES, TRANSITIONS
from services.runtime.access import staff
from services.runtime.messaging.bus import Bus
from tests.inquiry_samples import DISCHARGE
from tests.integration.inquiries.casefile import (
    CASES,
    CONFIRMATION,
    Client,
    case,
    footprint,
    move,
    offer,
    patient,
    published,
    settled,
    step,
    to_accepted,
)
from tests.support import eventually

PERSONAL = (
    "Olena",
    "Kovalenko",
    "olena@example.org",
    "380501234567",
    "regurgitation",
    "1961-04-02",
)


async def run_whole_case(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any]
) -> str:
    """Every step of the trade: review, records, two offers, patient accepts, trip, treatment."""
    inquiry_id: str = submitted["id"]
    await move(client, coordinator, inquiry_id, "in_review")
    await move(client, coordinator, inquiry_id, "records_requested")
    await move(client, coordinator, inquiry_id, "in_review")
    await step(client, coordinator, inquiry_id, "offers", offer(total="21500.00"))
    cheaper = offer(total="21500.00")
    cheaper["programmes"][0]["advance"] = "3000.00"
    await step(client, coordinator, inquiry_id, "offers", cheaper)
    accepted = await client.post(
        f"/v1/inquiries/{inquiry_id}/offers/2/accept", headers=patient(submitted)
    )
    assert accepted.status_code == 200, accepted.text
    await step(client, coordinator, inquiry_id, "confirmation", CONFIRMATION)
    await move(client, coordinator, inquiry_id, "in_treatment")
    await step(client, coordinator, inquiry_id, "discharge", DISCHARGE)
    await move(client, coordinator, inquiry_id, "completed")
    return inquiry_id


async def test_a_case_runs_from_submission_to_completion(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any]
) -> None:
    inquiry_id = await run_whole_case(client, coordinator, submitted)

    final = await case(client, coordinator, inquiry_id)
    assert final["status"] == "completed"
    assert final["allowed_next"] == []
    assert [(o["version"], o["state"]) for o in final["offers"]] == [
        (1, "superseded"),
        (2, "accepted"),
    ]
    assert final["offers"][1]["accepted_by"] == "patient"
    assert final["offers"][1]["non_binding"] is True
    assert final["confirmation"]["payment"]["payer"]["name"] == "Taras Kovalenko"
    assert final["discharge"]["fit_to_fly"] == "2027-02-13"
    assert [e["detail"]["to"] for e in final["timeline"] if e["kind"] == "status_changed"] == [
        "in_review", "records_requested", "in_review", "offer_sent", "offer_sent", "accepted",
        "confirmed", "in_treatment", "discharged", "completed",
    ]  # fmt: skip


async def test_each_step_is_announced_with_bookings_holding_only_what_partners_need(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any], bus: Bus, casedb: Any
) -> None:
    await run_whole_case(client, coordinator, submitted)

    await settled(casedb, bus)
    events = await published(bus)
    changes = [e for s, e in events if s == "inquiries.inquiry.status_changed.v1"]
    assert [(c["from_status"], c["to_status"], c["version"]) for c in changes] == [
        ("submitted", "in_review", 2), ("in_review", "records_requested", 3),
        ("records_requested", "in_review", 4), ("in_review", "offer_sent", 5),
        ("offer_sent", "offer_sent", 6), ("offer_sent", "accepted", 7),
        ("accepted", "confirmed", 8), ("confirmed", "in_treatment", 9),
        ("in_treatment", "discharged", 10), ("discharged", "completed", 11),
    ]  # fmt: skip
    sent = [e for s, e in events if s == "inquiries.inquiry.offer_sent.v1"]
    assert [o["offer_version"] for o in sent] == [1, 2]

    (confirmed,) = [e for s, e in events if s == "inquiries.inquiry.confirmed.v1"]
    transfer, interpreter = confirmed["bookings"]
    traveller = {"full_name": "Olena Kovalenko", "phone": "+380501234567", "language": "uk"}
    assert transfer == {
        "kind": "transfer",
        "flight_number": "LH1491",
        "airport": "FRA",
        "scheduled_arrival": "2027-02-01T14:35:00+01:00",
        "pickup_at": None,
        "passengers": 2,
        "luggage": 3,
        "mobility": "wheelchair",
        "meeting_point": "Arrivals hall B, exit 3",
        "pickup": "FRA airport",
        "dropoff": "Herzzentrum Rhein-Main, Klinikweg 1, 60590 Frankfurt",
        "patient": traveller,
        "direction": "arrival",
    }
    assert interpreter["kind"] == "interpreter"
    assert (interpreter["language_from"], interpreter["language_to"]) == ("uk", "de")
    assert interpreter["specialty"] == "cardiology"
    assert interpreter["patient"] == traveller

    (discharged,) = [e for s, e in events if s == "inquiries.inquiry.discharged.v1"]
    back, shipment = discharged["bookings"]
    assert discharged["fit_to_fly"] == "2027-02-13"
    assert back["direction"] == "return"
    assert back["pickup"] == "Herzzentrum Rhein-Main, Klinikweg 1, 60590 Frankfurt"
    assert back["dropoff"] == "FRA airport"
    assert (back["pickup_at"], back["scheduled_arrival"]) == (
        "2027-02-14T08:00:00+01:00",
        "2027-02-14T09:30:00+01:00",
    )
    assert shipment["kind"] == "shipment"
    assert shipment["destination"]["city"] == "Kyiv"
    assert shipment["items"][0]["active_ingredient"] == "phenprocoumon"

    for subject, event in events:
        without_bookings = {k: v for k, v in event.items() if k != "bookings"}
        for secret in (*PERSONAL, "Taras"):
            assert secret not in str(without_bookings), f"{secret!r} in {subject}"
        assert "regurgitation" not in str(event)
        assert "Taras" not in str(event), "the payer is never announced"


@pytest.mark.parametrize("current", STATUSES)
async def test_every_transition_the_table_does_not_allow_is_409_naming_the_allowed_states(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
    current: InquiryStatus,
    bus: Bus,
) -> None:
    inquiry_id = submitted["id"]
    await casedb.execute("UPDATE inquiries SET status = $1 WHERE id = $2", current, inquiry_id)
    before = await footprint(casedb, bus)

    for target in (s for s in STATUSES if s not in TRANSITIONS[current]):
        response = await client.post(
            f"{CASES}/{inquiry_id}/transitions",
            json={"to": target},
            headers=coordinator | {"If-Match": '"1"'},
        )

        assert response.status_code == 409, (current, target, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["allowed"] == list(TRANSITIONS[current])
    assert await footprint(casedb, bus) == before


@pytest.mark.parametrize("target", sorted(DEDICATED_STEPS))
async def test_steps_that_carry_a_payload_are_not_plain_transitions(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
    target: InquiryStatus,
    bus: Bus,
) -> None:
    source = next(s for s in STATUSES if target in TRANSITIONS[s])
    await casedb.execute("UPDATE inquiries SET status = $1 WHERE id = $2", source, submitted["id"])
    before = await footprint(casedb, bus)

    response = await client.post(
        f"{CASES}/{submitted['id']}/transitions",
        json={"to": target},
        headers=coordinator | {"If-Match": '"1"'},
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "to"
    assert await footprint(casedb, bus) == before


async def test_a_stale_version_is_412_and_a_missing_one_428_and_neither_changes_anything(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: Any,
    bus: Bus,
) -> None:
    inquiry_id = submitted["id"]
    await move(client, coordinator, inquiry_id, "in_review")  # version 2 now
    before = await footprint(casedb, bus)
    url = f"{CASES}/{inquiry_id}/transitions"

    stale = await client.post(
        url, json={"to": "declined"}, headers=coordinator | {"If-Match": '"1"'}
    )
    missing = await client.post(url, json={"to": "declined"}, headers=coordinator)
    malformed = await client.post(
        url, json={"to": "declined"}, headers=coordinator | {"If-Match": "latest"}
    )

    assert stale.status_code == 412
    assert "version 2, not 1" in stale.json()["detail"]
    assert missing.status_code == 428
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "If-Match"
    assert await footprint(casedb, bus) == before


async def test_two_coordinators_acting_on_one_version_cannot_both_succeed(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any], casedb: Any
) -> None:
    url = f"{CASES}/{submitted['id']}/transitions"
    headers = coordinator | {"If-Match": '"1"'}

    answers = await asyncio.gather(
        client.post(url, json={"to": "in_review"}, headers=headers),
        client.post(url, json={"to": "declined", "reason": "not treatable"}, headers=headers),
    )

    assert sorted(a.status_code for a in answers) == [200, 412]
    assert await casedb.fetchval("SELECT version FROM inquiries") == 2


async def test_cancelling_tells_logistics_to_cancel_open_bookings(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any], bus: Bus, casedb: Any
) -> None:
    inquiry_id = await to_accepted(client, coordinator, submitted)
    await step(client, coordinator, inquiry_id, "confirmation", CONFIRMATION)

    await step(
        client,
        coordinator,
        inquiry_id,
        "transitions",
        {"to": "cancelled", "reason": "the patient chose a clinic at home"},
    )

    async def cancelled() -> list[dict[str, Any]]:
        return [e for s, e in await published(bus) if s == "inquiries.inquiry.cancelled.v1"]

    (event,) = await eventually(cancelled)
    assert event["inquiry_id"] == inquiry_id
    assert event["reason"] == "the patient chose a clinic at home"
    view = await client.get(f"/v1/inquiries/{inquiry_id}", headers=patient(submitted))
    assert view.json()["status"] == "cancelled"
    assert view.json()["timeline"][-1]["detail"]["reason"] == "the patient chose a clinic at home"


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        ("transitions", {"to": "nowhere"}, {"to"}),
        ("transitions", {"to": "declined", "why": "x"}, {"why"}),
        ("transitions", {"to": "declined", "reason": "x" * 501}, {"reason"}),
        ("coordinator", {"coordinator": ""}, {"coordinator"}),
        ("notes", {"text": ""}, {"text"}),
    ],
)
async def test_malformed_requests_are_400_naming_the_field_and_write_nothing(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
    path: str,
    body: dict[str, Any],
    fields: set[str],
    bus: Bus,
) -> None:
    before = await footprint(casedb, bus)

    response = await client.request(
        "PUT" if path == "coordinator" else "POST",
        f"{CASES}/{submitted['id']}/{path}",
        json=body,
        headers=coordinator | {"If-Match": '"1"'},
    )

    assert response.status_code == 400, response.text
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert await footprint(casedb, bus) == before


async def test_only_coordinators_and_admins_work_on_cases(
    client: Client, submitted: dict[str, Any], casedb: asyncpg.Connection
) -> None:
    _, editor = await staff.create_token(casedb, person="Eva Editor", roles=("editor",))
    _, admin = await staff.create_token(casedb, person="Ada Admin", roles=("admin",))
    url = f"{CASES}/{submitted['id']}"

    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=patient(submitted))).status_code == 401
    assert (await client.get(url, headers={"Authorization": f"Bearer {editor}"})).status_code == 403
    assert (await client.get(url, headers={"Authorization": f"Bearer {admin}"})).status_code == 200
    unknown = await client.get(
        f"{CASES}/00000000-0000-4000-8000-000000000000",
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert unknown.status_code == 404
