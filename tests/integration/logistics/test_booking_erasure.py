"""The inquiries erased event wipes the traveller from the inquiry's bookings; the anonymous
bookings stay for the books."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from contracts.inquiries import PersonalDataErased
from contracts.partners import OfferAccepted, StatusUpdate
from contracts.registry import INQUIRY_ERASED
from services.logistics.domain import ERASED
from services.logistics.store import details_aad
from services.runtime.bus import Bus
from services.runtime.crypto import KeyRing, from_column
from tests.integration.logistics.conftest import Client, Register, Tap, publish, reply
from tests.integration.logistics.test_dispatch import confirm, confirmed, offer_to
from tests.logistics_samples import shipment, transfer
from tests.support import eventually


async def opened_details(db: asyncpg.Connection, keys: KeyRing, inquiry_id: str) -> list[str]:
    """The stored details of the inquiry's bookings, opened as the service opens them."""
    rows = await db.fetch(
        "SELECT id, sealed_details FROM bookings WHERE inquiry_id = $1 ORDER BY created_at, id",
        inquiry_id,
    )
    return [
        keys.decrypt(from_column(r["sealed_details"]), aad=details_aad(r["id"])).decode()
        for r in rows
    ]


async def test_erasure_wipes_the_traveller_and_keeps_the_anonymous_bookings(
    client: Client,
    coordinator: dict[str, str],
    register: Register,
    bus: Bus,
    offers: Tap,
    db: asyncpg.Connection,
    keys: KeyRing,
) -> None:
    await register("rhein-shuttle", "transfer")
    await register("kyiv-courier", "shipment")
    inquiry, other = str(uuid.uuid4()), str(uuid.uuid4())
    await confirm(bus, confirmed(inquiry, ("transfer", transfer()), ("shipment", shipment())))
    ride = offer_to(await offers.until(lambda s: len(s) == 2), "rhein-shuttle")
    await reply(bus, "rhein-shuttle", OfferAccepted(offer_id=ride.offer_id))
    await reply(
        bus,
        "rhein-shuttle",
        StatusUpdate(
            booking_id=ride.booking_id,
            status="picked_up",
            note="Mrs Kovalenko waited at gate B",
            driver_name="Jan Berger",
        ),
    )
    await confirm(bus, confirmed(other, ("transfer", transfer())))

    async def picked_up() -> bool:
        status = await db.fetchval(
            "SELECT progress FROM bookings WHERE id = $1", uuid.UUID(ride.booking_id)
        )
        others = await db.fetchval("SELECT count(*) FROM bookings WHERE inquiry_id = $1", other)
        return bool(status == "picked_up" and others == 1)

    await eventually(picked_up)

    await publish(
        bus,
        INQUIRY_ERASED.subject(),
        PersonalDataErased(inquiry_id=inquiry, erased_at=datetime.now(UTC)),
        source="/carebridge/inquiries",
    )

    async def erased() -> bool:
        count = await db.fetchval(
            "SELECT count(*) FROM bookings WHERE inquiry_id = $1 AND erased_at IS NOT NULL",
            inquiry,
        )
        return bool(count == 2)

    await eventually(erased)
    stored = " ".join(await opened_details(db, keys, inquiry)) + " ".join(
        await db.fetchval(
            """SELECT array_agg(t.detail::text) FROM booking_timeline t
               JOIN bookings b ON b.id = t.booking_id WHERE b.inquiry_id = $1""",
            inquiry,
        )
    )
    for personal in ("Kovalenko", "+380501234567", "Khreshchatyk", "Terminal 1", "RX-2027"):
        assert personal not in stored
    view = (await client.get(f"/v1/bookings/{ride.booking_id}", headers=coordinator)).json()
    assert view["booking"]["status"] == "in_progress"
    assert view["booking"]["details"]["patient"] == {
        "full_name": ERASED,
        "phone": None,
        "language": "uk",
    }
    assert view["booking"]["details"]["flight_number"] == "LH1491"
    assert view["timeline"][-1]["entry"] == "personal_data_erased"
    (untouched,) = await opened_details(db, keys, other)
    assert "Kovalenko" in untouched
