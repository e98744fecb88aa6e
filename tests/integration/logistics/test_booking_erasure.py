"""The inquiries erased event wipes the traveller from the inquiry's bookings; the anonymous
bookings stay for the books, and every partner offered one of them is asked to erase its copy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import msgspec

from contracts.inquiries import PersonalDataErased
from contracts.partners import DataErasureRequested, OfferAccepted, OfferDeclined, StatusUpdate
from contracts.registry import INQUIRY_ERASED
from services.logistics.domain import ERASED
from services.logistics.store.bookings import details_aad
from services.runtime.messaging.bus import Bus
from services.runtime.privacy.crypto import KeyRing, from_column
from tests.integration.logistics.conftest import Client, Register, Tap, of_type, publish, reply
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
    entries = [(e["entry"], e["partner_id"]) for e in view["timeline"]]
    assert entries[-2:] == [
        ("personal_data_erased", None),
        ("partner_asked_to_erase", "rhein-shuttle"),
    ]
    (untouched,) = await opened_details(db, keys, other)
    assert "Kovalenko" in untouched


async def test_each_partner_offered_a_booking_of_the_case_is_asked_to_erase_it_once(
    register: Register, bus: Bus, offers: Tap, db: asyncpg.Connection
) -> None:
    await register("rhein-shuttle", "transfer", priority=10)
    await register("main-taxi", "transfer", priority=1)
    await register("kyiv-courier", "shipment")
    inquiry, other = str(uuid.uuid4()), str(uuid.uuid4())
    await confirm(bus, confirmed(inquiry, ("transfer", transfer()), ("shipment", shipment())))
    first = offer_to(await offers.until(lambda s: len(s) == 2), "rhein-shuttle")
    # Declined, the ride goes on to main-taxi: both were sent the traveller.
    await reply(bus, "rhein-shuttle", OfferDeclined(offer_id=first.offer_id, reason="no_capacity"))
    seen = await offers.until(lambda s: len(s) == 3)
    second = offer_to(seen, "main-taxi")
    parcel = offer_to(seen, "kyiv-courier")
    await confirm(bus, confirmed(other, ("transfer", transfer())))
    await offers.until(lambda s: len(s) == 4)
    erased = PersonalDataErased(inquiry_id=inquiry, erased_at=datetime.now(UTC))

    await publish(bus, INQUIRY_ERASED.subject(), erased, source="/carebridge/inquiries")
    # The same erasure announced again (a re-publish past the duplicate window) asks nobody twice.
    await publish(bus, INQUIRY_ERASED.subject(), erased, source="/carebridge/inquiries")

    requests = await offers.until(lambda s: len(of_type(s, DataErasureRequested)) >= 3)
    await _settled(db)
    asked = {
        (subject, r.offer_id, r.booking_id)
        for subject, r in await offers.read()
        if isinstance(r, DataErasureRequested)
    }
    assert asked == {
        ("partners.rhein-shuttle.offers.transfer", first.offer_id, first.booking_id),
        ("partners.main-taxi.offers.transfer", second.offer_id, second.booking_id),
        ("partners.kyiv-courier.offers.shipment", parcel.offer_id, parcel.booking_id),
    }
    assert len(of_type(requests, DataErasureRequested)) == 3
    for request in of_type(requests, DataErasureRequested):
        # Ids and a time: nothing of the traveller travels with the request.
        assert set(msgspec.structs.asdict(request)) == {"offer_id", "booking_id", "erased_at"}


async def _settled(db: asyncpg.Connection) -> None:
    """Both announcements were consumed and the outbox relayed what they caused."""

    async def done() -> bool:
        applied = await db.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = 'logistics-inquiry-lifecycle'"
        )
        pending = await db.fetchval("SELECT count(*) FROM outbox")
        return bool(applied == 4 and pending == 0)

    await eventually(done)
