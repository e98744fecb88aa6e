"""A partner reports a personal-data breach on its replies subject: logistics keeps it, marks the
affected bookings, alerts operators with the cases it touches and shows it to staff. A report
about data the partner was never sent, or about nothing, is a dead letter and changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from contracts.envelope import Metadata, event_type
from contracts.logistics import OperatorAlert
from contracts.partners import IncidentReported, Offer
from services.runtime.access import staff
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import (
    Client,
    Register,
    Tap,
    dead_letters,
    of_type,
    reply,
)
from tests.integration.logistics.test_dispatch import confirm, confirmed, offer_to
from tests.logistics_samples import shipment, transfer
from tests.support import eventually

DETECTED = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


def report(**changes: Any) -> IncidentReported:
    fields: dict[str, Any] = {
        "category": "lost_device",
        "description": "A dispatcher's tablet with the day's job list was stolen from a car.",
        "detected_at": DETECTED,
        "occurred_at": DETECTED - timedelta(hours=10),
    }
    return IncidentReported(**(fields | changes))


@pytest.fixture
async def held(register: Register, bus: Bus, offers: Tap) -> tuple[str, str, Offer, Offer, Offer]:
    """Two cases: rhein-shuttle was offered both their rides, kyiv-courier the parcel of the
    first. Returns (case 1, case 2, ride 1, ride 2, parcel)."""
    await register("rhein-shuttle", "transfer")
    await register("kyiv-courier", "shipment")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await confirm(bus, confirmed(first, ("transfer", transfer()), ("shipment", shipment())))
    seen = await offers.until(lambda s: len(s) == 2)
    ride, parcel = offer_to(seen, "rhein-shuttle"), offer_to(seen, "kyiv-courier")
    await confirm(bus, confirmed(second, ("transfer", transfer())))
    later = [o for _, o in await offers.until(lambda s: len(s) == 3) if isinstance(o, Offer)]
    return first, second, ride, later[-1], parcel


async def incidents(client: Client, headers: dict[str, str], **query: str) -> list[Any]:
    response = await client.get("/v1/incidents", params=query, headers=headers)
    assert response.status_code == 200, response.text
    body: list[Any] = response.json()
    return body


async def test_a_reported_breach_is_kept_shown_with_its_cases_and_raised_to_operators(
    client: Client,
    coordinator: dict[str, str],
    bus: Bus,
    events: Tap,
    held: tuple[str, str, Offer, Offer, Offer],
    db: asyncpg.Connection,
) -> None:
    first, second, ride, other_ride, _ = held

    report_id = await reply(
        bus,
        "rhein-shuttle",
        report(booking_ids=(ride.booking_id,), offer_ids=(other_ride.offer_id,)),
    )

    seen = await events.until(lambda s: bool(of_type(s, OperatorAlert)))
    (alert,) = of_type(seen, OperatorAlert)
    assert alert.alert == "partner_incident"
    assert alert.partner_id == "rhein-shuttle"
    assert set(alert.affected_inquiry_ids) == {first, second}
    assert set(alert.affected_booking_ids) == {ride.booking_id, other_ride.booking_id}
    assert "72 hours" in alert.detail
    assert "tablet" not in alert.detail
    (listed,) = await incidents(client, coordinator)
    assert listed["id"] == alert.incident_id
    assert listed["report_id"] == report_id
    assert listed["partner_id"] == "rhein-shuttle"
    assert listed["category"] == "lost_device"
    assert listed["description"].startswith("A dispatcher's tablet")
    assert listed["detected_at"].startswith("2026-11-30T08:15:00")
    assert listed["all_data"] is False
    assert sorted(listed["affected_inquiry_ids"]) == sorted([first, second])
    one = await client.get(f"/v1/incidents/{alert.incident_id}", headers=coordinator)
    assert one.status_code == 200
    assert one.json() == listed
    timeline = (await client.get(f"/v1/bookings/{ride.booking_id}", headers=coordinator)).json()
    assert timeline["timeline"][-1]["entry"] == "partner_incident"
    assert timeline["timeline"][-1]["detail"]["incident_id"] == alert.incident_id
    # The partner's own words are sealed at rest, like booking details.
    raw = await db.fetchval("SELECT sealed_description FROM partner_incidents")
    assert b"tablet" not in raw


async def test_all_data_covers_every_booking_the_partner_was_offered_and_no_other(
    client: Client,
    coordinator: dict[str, str],
    bus: Bus,
    events: Tap,
    held: tuple[str, str, Offer, Offer, Offer],
) -> None:
    first, _, _, _, parcel = held

    await reply(bus, "kyiv-courier", report(category="malware", all_data=True))

    (alert,) = of_type(await events.until(lambda s: bool(of_type(s, OperatorAlert))), OperatorAlert)
    assert alert.affected_booking_ids == (parcel.booking_id,)
    assert alert.affected_inquiry_ids == (first,)
    (listed,) = await incidents(client, coordinator, partner_id="kyiv-courier")
    assert listed["all_data"] is True
    assert [b["booking_id"] for b in listed["affected_bookings"]] == [parcel.booking_id]
    assert await incidents(client, coordinator, partner_id="rhein-shuttle") == []


async def test_a_report_naming_what_the_partner_was_not_sent_or_nothing_is_a_dead_letter(
    client: Client,
    coordinator: dict[str, str],
    bus: Bus,
    held: tuple[str, str, Offer, Offer, Offer],
    db: asyncpg.Connection,
) -> None:
    _, _, ride, _, parcel = held
    unknown = str(uuid.uuid4())

    await reply(bus, "kyiv-courier", report(booking_ids=(ride.booking_id,)))
    await reply(bus, "kyiv-courier", report(offer_ids=(ride.offer_id,)))
    await reply(bus, "rhein-shuttle", report(booking_ids=(unknown,)))
    await reply(bus, "rhein-shuttle", report())
    await reply(bus, "rhein-shuttle", report(booking_ids=("0" * 36,)))
    await reply(bus, "kyiv-courier", report(booking_ids=(parcel.booking_id, ride.booking_id)))

    async def all_dead_lettered() -> list[tuple[str, str]] | None:
        letters = await dead_letters(db)
        return letters if len(letters) == 6 else None

    letters = await eventually(all_dead_lettered, timeout=15)
    reasons = [error for consumer, error in letters if consumer == "logistics-partner-replies"]
    assert len(reasons) == 6
    assert f"partner kyiv-courier was offered no booking {ride.booking_id}" in reasons[0]
    assert f"partner kyiv-courier holds no offer {ride.offer_id}" in reasons[1]
    assert f"partner rhein-shuttle was offered no booking {unknown}" in reasons[2]
    assert "name the affected bookings or offers, or set all_data" in reasons[3]
    assert "is not a UUID" in reasons[4]
    assert f"was offered no booking {ride.booking_id}" in reasons[5]
    assert await db.fetchval("SELECT count(*) FROM partner_incidents") == 0
    assert await db.fetchval("SELECT count(*) FROM partner_incident_bookings") == 0
    assert await incidents(client, coordinator) == []


async def test_a_malformed_report_is_a_dead_letter(
    bus: Bus, held: tuple[str, str, Offer, Offer, Offer], db: asyncpg.Connection
) -> None:
    meta = Metadata(
        id=str(uuid.uuid4()),
        type=event_type(IncidentReported),
        source="/partners/rhein-shuttle",
        time=datetime.now(UTC),
    )
    await bus.js.publish(
        bus.subject("partners.rhein-shuttle.replies"),
        b'{"type": "incident_reported", "category": "gossip", "description": "",'
        b' "detected_at": "yesterday"}',
        headers=meta.headers(),
    )

    async def dead_lettered() -> list[tuple[str, str]]:
        return await dead_letters(db)

    letters = await eventually(dead_lettered, timeout=10)
    assert "undecodable message" in letters[0][1]
    assert await db.fetchval("SELECT count(*) FROM partner_incidents") == 0


async def test_incidents_are_for_staff_only(client: Client, db: asyncpg.Connection) -> None:
    _, editor = await staff.create_token(db, person="Eve Editor", roles=("editor",))
    _, admin = await staff.create_token(db, person="Ada Admin", roles=("admin",))

    anonymous = await client.get("/v1/incidents")
    wrong_role = await client.get("/v1/incidents", headers={"Authorization": f"Bearer {editor}"})
    missing = await client.get(
        f"/v1/incidents/{uuid.uuid4()}", headers={"Authorization": f"Bearer {admin}"}
    )

    assert [anonymous.status_code, wrong_role.status_code, missing.status_code] == [401, 403, 404]
