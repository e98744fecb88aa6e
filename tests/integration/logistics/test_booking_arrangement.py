"""What the patient needs to meet a booked service (the driver and their phone, vehicle and
meeting point; the interpreter and when; carrier and tracking number): reported by the partner,
kept sealed by logistics, carried to inquiries and notifications on the booking's status event,
and forgotten with the case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import msgspec

from contracts.inquiries import PersonalDataErased
from contracts.logistics import Arrangement, BookingStatusChanged
from contracts.partners import OfferAccepted, StatusUpdate
from contracts.registry import INQUIRY_ERASED
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import Client, Register, Tap, publish, reply
from tests.integration.logistics.test_dispatch import confirm, confirmed, offer_to
from tests.logistics_samples import shipment, transfer
from tests.support import eventually, every_value

DRIVER = StatusUpdate(
    booking_id="",
    status="driver_assigned",
    driver_name="Jan Berger",
    driver_phone="+4915112345678",
    vehicle="Mercedes V-Class, F-CB 1234",
    meeting_point="FRA arrivals hall, exit A",
)
SECRETS = ("Jan Berger", "+4915112345678", "F-CB 1234", "exit A", "CB1234567890DE")


async def test_the_partners_details_travel_on_the_status_event_and_rest_sealed(
    client: Client,
    coordinator: dict[str, str],
    register: Register,
    bus: Bus,
    offers: Tap,
    events: Tap,
    db: asyncpg.Connection,
) -> None:
    await register("rhein-shuttle", "transfer")
    await register("kyiv-courier", "shipment")
    inquiry = str(uuid.uuid4())
    await confirm(bus, confirmed(inquiry, ("transfer", transfer()), ("shipment", shipment())))
    seen = await offers.until(lambda s: len(s) == 2)
    ride, parcel = offer_to(seen, "rhein-shuttle"), offer_to(seen, "kyiv-courier")
    await reply(bus, "rhein-shuttle", OfferAccepted(offer_id=ride.offer_id))
    await reply(bus, "kyiv-courier", OfferAccepted(offer_id=parcel.offer_id))
    await reply(bus, "rhein-shuttle", _for(DRIVER, ride.booking_id))
    # A later step without the details keeps them.
    await reply(bus, "rhein-shuttle", StatusUpdate(booking_id=ride.booking_id, status="picked_up"))
    await reply(
        bus,
        "kyiv-courier",
        StatusUpdate(
            booking_id=parcel.booking_id,
            status="dispatched",
            carrier="DHL Express",
            tracking_number="CB1234567890DE",
        ),
    )

    def arrangements(seen: list[tuple[str, object]]) -> dict[tuple[str, str | None], object]:
        return {
            (e.booking_id, e.progress): e.arrangement
            for _, e in seen
            if isinstance(e, BookingStatusChanged)
        }

    seen_events = await events.until(
        lambda s: (
            (parcel.booking_id, "dispatched") in arrangements(s)
            and (ride.booking_id, "picked_up") in arrangements(s)
        )
    )
    carried = arrangements(seen_events)
    driver = Arrangement(
        driver_name="Jan Berger",
        driver_phone="+4915112345678",
        vehicle="Mercedes V-Class, F-CB 1234",
        meeting_point="FRA arrivals hall, exit A",
    )
    assert carried[(ride.booking_id, "driver_assigned")] == driver
    assert carried[(ride.booking_id, "picked_up")] == driver
    assert carried[(parcel.booking_id, "dispatched")] == Arrangement(
        carrier="DHL Express", tracking_number="CB1234567890DE"
    )
    assert carried[(ride.booking_id, None)] is None  # confirmed: nothing reported yet
    # The coordinator sees them; no table holds them in plain text (the outbox seals them too).
    view = await client.get(f"/v1/bookings/{ride.booking_id}", headers=coordinator)
    assert view.json()["booking"]["arrangement"]["driver_phone"] == "+4915112345678"
    dump = await every_value(db, "logistics")
    assert {(t, s) for t, text in dump.items() for s in SECRETS if s in text} == set()

    await publish(
        bus,
        INQUIRY_ERASED.subject(),
        PersonalDataErased(inquiry_id=inquiry, erased_at=datetime.now(UTC)),
        source="/carebridge/inquiries",
    )

    async def forgotten() -> bool:
        left = await db.fetchval(
            """SELECT count(*) FROM bookings
               WHERE inquiry_id = $1 AND (sealed_arrangement IS NOT NULL OR erased_at IS NULL)""",
            inquiry,
        )
        return bool(left == 0)

    await eventually(forgotten)


def _for(update: StatusUpdate, booking_id: str) -> StatusUpdate:
    return msgspec.structs.replace(update, booking_id=booking_id)
