"""Cancelling a booking, by a coordinator or with its inquiry, tells the partners concerned; a
shipment already dispatched cannot be cancelled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from contracts.inquiries import InquiryCancelled
from contracts.logistics import BookingStatusChanged
from contracts.partners import OfferAccepted, OfferWithdrawn, StatusUpdate
from contracts.registry import INQUIRY_CANCELLED
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import (
    Client,
    Register,
    Tap,
    booking_row,
    of_type,
    publish,
    reply,
)
from tests.integration.logistics.test_dispatch import confirm, confirmed, offer_to
from tests.logistics_samples import interpreter, shipment, transfer
from tests.support import eventually


async def _status_is(
    db: asyncpg.Connection, booking_id: str, status: str, progress: str | None = None
) -> bool:
    row = await booking_row(db, booking_id)
    return bool(row["status"] == status and (progress is None or row["progress"] == progress))


async def test_cancelling_an_offered_booking_withdraws_the_offer(
    client: Client, coordinator: dict[str, str], register: Register, offers: Tap, events: Tap
) -> None:
    await register("rhein-shuttle", "transfer")
    created = await client.post(
        "/v1/bookings", json={"kind": "transfer", "details": transfer()}, headers=coordinator
    )
    booking_id = created.json()["booking"]["id"]

    cancelled = await client.post(
        f"/v1/bookings/{booking_id}/cancel",
        json={"reason": "patient postponed the trip"},
        headers=coordinator,
    )
    again = await client.post(f"/v1/bookings/{booking_id}/cancel", headers=coordinator)

    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["booking"]["status"] == "cancelled"
    assert [o["state"] for o in body["offers"]] == ["withdrawn"]
    assert body["timeline"][-1]["detail"] == {"reason": "patient postponed the trip"}
    assert again.status_code == 409
    assert again.json()["allowed"] == []
    seen = await offers.until(lambda s: len(of_type(s, OfferWithdrawn)) == 1)
    subject, withdrawal = seen[-1]
    assert subject == "partners.rhein-shuttle.offers.transfer"
    # The partner learns the booking is off, not the coordinator's reason (free text).
    assert withdrawal.reason == "booking cancelled"
    changes = of_type(await events.until(lambda s: len(s) >= 3), BookingStatusChanged)
    assert [(c.from_status, c.to_status) for c in changes][-1] == ("offered", "cancelled")


async def test_a_shipment_cannot_be_cancelled_once_dispatched(
    client: Client,
    coordinator: dict[str, str],
    register: Register,
    bus: Bus,
    offers: Tap,
    db: asyncpg.Connection,
) -> None:
    await register("kyiv-courier", "shipment")
    await confirm(bus, confirmed(str(uuid.uuid4()), ("shipment", shipment())))
    offer = offer_to(await offers.until(lambda s: len(s) == 1), "kyiv-courier")
    await reply(bus, "kyiv-courier", OfferAccepted(offer_id=offer.offer_id))
    await reply(
        bus,
        "kyiv-courier",
        StatusUpdate(booking_id=offer.booking_id, status="dispatched", tracking_number="UA123"),
    )
    await eventually(lambda: _status_is(db, offer.booking_id, "in_progress", "dispatched"))
    before = dict(await booking_row(db, offer.booking_id))

    refused = await client.post(f"/v1/bookings/{offer.booking_id}/cancel", headers=coordinator)

    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["detail"] == "a shipment cannot be cancelled once dispatched"
    assert dict(await booking_row(db, offer.booking_id)) == before
    assert of_type(await offers.read(), OfferWithdrawn) == []


async def test_a_cancelled_inquiry_cancels_its_open_bookings_and_tells_their_partners(
    client: Client, register: Register, bus: Bus, offers: Tap, db: asyncpg.Connection
) -> None:
    await register("rhein-shuttle", "transfer")
    await register("dolmetscher-uk", "interpreter")
    await register("kyiv-courier", "shipment")
    inquiry, other = str(uuid.uuid4()), str(uuid.uuid4())
    await confirm(
        bus,
        confirmed(
            inquiry,
            ("transfer", transfer()),
            ("interpreter", interpreter()),
            ("shipment", shipment()),
        ),
    )
    await confirm(bus, confirmed(other, ("transfer", transfer(flight_number="LH1493"))))
    seen = await offers.until(lambda s: len(s) == 4)
    ride = next(
        o
        for s, o in seen
        if s.startswith("partners.rhein-shuttle.") and o.details.flight_number == "LH1491"
    )
    talk = offer_to(seen, "dolmetscher-uk")
    parcel = offer_to(seen, "kyiv-courier")
    await reply(bus, "rhein-shuttle", OfferAccepted(offer_id=ride.offer_id))
    await reply(bus, "kyiv-courier", OfferAccepted(offer_id=parcel.offer_id))
    await reply(
        bus, "kyiv-courier", StatusUpdate(booking_id=parcel.booking_id, status="dispatched")
    )
    await eventually(lambda: _status_is(db, ride.booking_id, "confirmed"))
    await eventually(lambda: _status_is(db, parcel.booking_id, "in_progress", "dispatched"))

    await publish(
        bus,
        INQUIRY_CANCELLED.subject(),
        InquiryCancelled(
            inquiry_id=inquiry,
            reason="the patient chose another clinic",
            cancelled_at=datetime.now(UTC),
        ),
        source="/carebridge/inquiries",
    )

    seen = await offers.until(lambda s: len(of_type(s, OfferWithdrawn)) == 2)
    withdrawn = {(s, o.booking_id) for s, o in seen if isinstance(o, OfferWithdrawn)}
    assert withdrawn == {
        ("partners.rhein-shuttle.offers.transfer", ride.booking_id),
        ("partners.dolmetscher-uk.offers.interpreter", talk.booking_id),
    }
    assert (await booking_row(db, ride.booking_id))["status"] == "cancelled"
    assert (await booking_row(db, talk.booking_id))["status"] == "cancelled"
    assert (await booking_row(db, parcel.booking_id))["status"] == "in_progress"
    refused = await db.fetchval(
        "SELECT detail->>'reason' FROM booking_timeline WHERE booking_id = $1 "
        "AND entry = 'cancellation_refused'",
        uuid.UUID(parcel.booking_id),
    )
    assert refused == "a shipment cannot be cancelled once dispatched"
    statuses = await db.fetch("SELECT status FROM bookings WHERE inquiry_id = $1", other)
    assert [r["status"] for r in statuses] == ["offered"]
