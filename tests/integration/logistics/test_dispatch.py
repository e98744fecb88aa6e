"""From the inquiries `confirmed` event to completed bookings, over the real streams: offers on
the partners' subjects, replies as partners send them, re-dispatch on decline and deadline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from contracts.inquiries import (
    BookingsReleased,
    ConsentBasis,
    InquiryConfirmed,
    InquiryDischarged,
)
from contracts.logistics import (
    BookingCreated,
    BookingStatusChanged,
    OperatorAlert,
    booking_details_decoder,
)
from contracts.partners import Offer, OfferAccepted, OfferDeclined, OfferWithdrawn, StatusUpdate
from contracts.registry import INQUIRY_BOOKINGS_RELEASED, INQUIRY_CONFIRMED, INQUIRY_DISCHARGED
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import (
    Client,
    Register,
    Start,
    Tap,
    booking_row,
    of_type,
    publish,
    reply,
)
from tests.logistics_samples import interpreter, partner, shipment, transfer
from tests.support import eventually


def confirmed(inquiry_id: str, *bookings: tuple[str, dict[str, Any]]) -> InquiryConfirmed:
    return InquiryConfirmed(
        inquiry_id=inquiry_id,
        version=6,
        bookings=tuple(
            booking_details_decoder.decode(msgspec.json.encode({"kind": k, **b}))
            for k, b in bookings
        ),
        confirmed_at=datetime.now(UTC),
    )


async def confirm(
    bus: Bus, event: InquiryConfirmed, event_id: str | None = None, msg_id: str | None = None
) -> str:
    return await publish(
        bus,
        INQUIRY_CONFIRMED.subject(),
        event,
        source="/carebridge/inquiries",
        event_id=event_id,
        msg_id=msg_id,
    )


def offer_to(seen: list[tuple[str, Any]], partner_id: str) -> Offer:
    found = [o for s, o in seen if isinstance(o, Offer) and s.startswith(f"partners.{partner_id}.")]
    assert len(found) == 1, found
    return found[0]


async def test_a_confirmed_inquiry_books_each_service_and_partners_take_them_to_completion(
    client: Client,
    coordinator: dict[str, str],
    register: Register,
    bus: Bus,
    offers: Tap,
    events: Tap,
    db: asyncpg.Connection,
) -> None:
    await register("rhein-shuttle", "transfer")
    await register("dolmetscher-uk", "interpreter")
    await register("kyiv-courier", "shipment")
    inquiry = str(uuid.uuid4())

    await confirm(
        bus,
        confirmed(
            inquiry,
            ("transfer", transfer()),
            ("interpreter", interpreter()),
            ("shipment", shipment()),
        ),
    )

    seen = await offers.until(lambda s: len(s) == 3)
    assert sorted(s for s, _ in seen) == [
        "partners.dolmetscher-uk.offers.interpreter",
        "partners.kyiv-courier.offers.shipment",
        "partners.rhein-shuttle.offers.transfer",
    ]
    ride = offer_to(seen, "rhein-shuttle")
    talk = offer_to(seen, "dolmetscher-uk")
    parcel = offer_to(seen, "kyiv-courier")
    assert ride.details.patient.full_name == "Olena Kovalenko"
    for partner_id, offer in (
        ("rhein-shuttle", ride),
        ("dolmetscher-uk", talk),
        ("kyiv-courier", parcel),
    ):
        await reply(bus, partner_id, OfferAccepted(offer_id=offer.offer_id))
    for partner_id, booking_id, steps in (
        (
            "rhein-shuttle",
            ride.booking_id,
            ("driver_assigned", "en_route", "picked_up", "completed"),
        ),
        ("dolmetscher-uk", talk.booking_id, ("interpreter_assigned", "session_done", "completed")),
        ("kyiv-courier", parcel.booking_id, ("dispatched", "in_customs", "delivered")),
    ):
        for step in steps:
            await reply(bus, partner_id, StatusUpdate(booking_id=booking_id, status=step))  # type: ignore[arg-type]

    async def all_completed() -> bool:
        listed = await client.get(
            "/v1/bookings", params={"inquiry_id": inquiry}, headers=coordinator
        )
        return [b["status"] for b in listed.json()["items"]] == ["completed"] * 3

    await eventually(all_completed, timeout=15)
    changes = of_type(
        await events.until(lambda s: len(of_type(s, BookingStatusChanged)) >= 15),
        BookingStatusChanged,
    )
    created = of_type(events.seen, BookingCreated)
    assert {c.booking_id for c in created} == {ride.booking_id, talk.booking_id, parcel.booking_id}
    assert all(c.inquiry_id == inquiry for c in created)
    ride_changes = [c for c in changes if c.booking_id == ride.booking_id]
    assert [(c.to_status, c.progress, c.version) for c in ride_changes] == [
        ("offered", None, 2),
        ("confirmed", None, 3),
        ("in_progress", "driver_assigned", 4),
        ("in_progress", "en_route", 5),
        ("in_progress", "picked_up", 6),
        ("completed", "completed", 7),
    ]
    assert ride_changes[1].partner_name == "Rhein Shuttle GmbH"
    assert all(c.inquiry_id == inquiry for c in changes)
    view = await client.get(f"/v1/bookings/{parcel.booking_id}", headers=coordinator)
    assert [e["entry"] for e in view.json()["timeline"]] == [
        "created",
        "offered",
        "offer_accepted",
        "dispatched",
        "in_customs",
        "delivered",
    ]
    assert await db.fetchval("SELECT count(*) FROM dead_letters") == 0


async def test_the_discharged_event_books_the_return_transfer_and_the_shipment(
    client: Client, register: Register, bus: Bus, offers: Tap, db: asyncpg.Connection
) -> None:
    await register("rhein-shuttle", "transfer")
    await register("kyiv-courier", "shipment")
    inquiry = str(uuid.uuid4())
    ride_home = transfer(direction="return", pickup_at="2027-02-20T06:00:00+01:00")

    await publish(
        bus,
        INQUIRY_DISCHARGED.subject(),
        InquiryDischarged(
            inquiry_id=inquiry,
            version=9,
            fit_to_fly=datetime(2027, 2, 20, tzinfo=UTC).date(),
            bookings=confirmed(inquiry, ("transfer", ride_home), ("shipment", shipment())).bookings,
            discharged_at=datetime.now(UTC),
        ),
        source="/carebridge/inquiries",
    )

    seen = await offers.until(lambda s: len(s) == 2)
    assert offer_to(seen, "rhein-shuttle").details.direction == "return"  # type: ignore[union-attr]
    rows = await db.fetch("SELECT kind, origin, inquiry_id FROM bookings ORDER BY position")
    assert [(r["kind"], r["origin"], r["inquiry_id"]) for r in rows] == [
        ("transfer", "discharged", inquiry),
        ("shipment", "discharged", inquiry),
    ]


async def test_a_confirmed_event_sent_again_books_nothing_twice(
    client: Client, register: Register, bus: Bus, offers: Tap, db: asyncpg.Connection
) -> None:
    await register("rhein-shuttle", "transfer")
    event = confirmed(str(uuid.uuid4()), ("transfer", transfer()))
    event_id = str(uuid.uuid4())

    await confirm(bus, event, event_id)
    await confirm(bus, event, event_id)  # published again: the stream drops it
    await confirm(bus, event, event_id, msg_id=str(uuid.uuid4()))  # past the stream: the inbox
    await confirm(bus, event)  # re-sent by its producer under a new id

    await offers.until(lambda s: len(s) == 1)
    await eventually(lambda: _inbox_count(db, "logistics-inquiry-lifecycle", 2), timeout=10)
    assert await db.fetchval("SELECT count(*) FROM bookings") == 1
    assert len(await offers.read()) == 1


async def test_bookings_released_after_an_empty_confirmation_are_offered_once(
    register: Register, bus: Bus, offers: Tap, db: asyncpg.Connection
) -> None:
    await register("rhein-shuttle", "transfer")
    inquiry = str(uuid.uuid4())
    # The patient had not given partner_sharing: the confirmation carried no booking.
    await confirm(bus, confirmed(inquiry))
    waiting = confirmed(inquiry, ("transfer", transfer()))
    granted = ConsentBasis(
        purpose="partner_sharing", notice_version="2026-12", given_at=datetime.now(UTC)
    )
    released = BookingsReleased(
        inquiry_id=inquiry,
        step="confirmed",
        bookings=waiting.bookings,
        released_at=datetime.now(UTC),
        sharing_consent=granted,
    )

    for _ in range(2):  # re-sent by its producer under a new id: booked once
        await publish(
            bus, INQUIRY_BOOKINGS_RELEASED.subject(), released, source="/carebridge/inquiries"
        )

    (seen,) = await offers.until(lambda s: len(s) == 1)
    assert seen[0] == "partners.rhein-shuttle.offers.transfer"
    await eventually(lambda: _inbox_count(db, "logistics-inquiry-lifecycle", 3), timeout=10)
    assert await db.fetchval("SELECT origin FROM bookings WHERE inquiry_id = $1", inquiry) == (
        "confirmed"
    )
    assert len(await offers.read()) == 1
    # The offer's disclosure names the grant the request was released on.
    disclosed = await db.fetchrow(
        """SELECT legal_basis, consent_purpose, consent_version, consent_given_at
           FROM disclosure_log WHERE kind = 'partner_offer' AND inquiry_id = $1""",
        inquiry,
    )
    assert disclosed is not None
    assert (
        disclosed["consent_purpose"],
        disclosed["consent_version"],
        disclosed["consent_given_at"],
    ) == ("partner_sharing", "2026-12", granted.given_at)
    assert "to partner_sharing, given" in disclosed["legal_basis"]


async def _inbox_count(db: asyncpg.Connection, consumer: str, expected: int) -> bool:
    count = await db.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", consumer)
    return bool(count == expected)


async def test_a_declined_offer_goes_to_the_next_partner(
    client: Client, coordinator: dict[str, str], register: Register, bus: Bus, offers: Tap
) -> None:
    await register("main-taxi", "transfer", priority=20)
    await register("rhein-shuttle", "transfer", priority=10)
    await confirm(bus, confirmed(str(uuid.uuid4()), ("transfer", transfer())))
    first = offer_to(await offers.until(lambda s: len(s) == 1), "main-taxi")

    await reply(bus, "main-taxi", OfferDeclined(offer_id=first.offer_id, reason="no_capacity"))

    second = offer_to(await offers.until(lambda s: len(s) == 2), "rhein-shuttle")
    assert second.booking_id == first.booking_id
    assert second.offer_id != first.offer_id
    view = (await client.get(f"/v1/bookings/{first.booking_id}", headers=coordinator)).json()
    assert view["booking"]["status"] == "offered"
    assert [(o["partner_id"], o["state"], o["reason"]) for o in view["offers"]] == [
        ("main-taxi", "declined", "no_capacity"),
        ("rhein-shuttle", "open", None),
    ]
    assert [e["entry"] for e in view["timeline"]] == [
        "created",
        "offered",
        "offer_declined",
        "offered",
    ]


async def test_an_unanswered_offer_is_withdrawn_and_goes_to_the_next_partner(
    start: Start, coordinator: dict[str, str], bus: Bus, offers: Tap, db: asyncpg.Connection
) -> None:
    async with start(OFFER_TIMEOUT="0.5") as client:
        for partner_id, priority in (("main-taxi", 20), ("rhein-shuttle", 10)):
            await client.post(
                "/v1/partners",
                json=partner(partner_id, "transfer", priority=priority),
                headers=coordinator,
            )
        await confirm(bus, confirmed(str(uuid.uuid4()), ("transfer", transfer())))

        seen = await offers.until(lambda s: len(of_type(s, OfferWithdrawn)) == 2)

    first = offer_to(seen, "main-taxi")
    second = offer_to(seen, "rhein-shuttle")
    withdrawn = [(s, o.offer_id) for s, o in seen if isinstance(o, OfferWithdrawn)]
    assert withdrawn == [
        ("partners.main-taxi.offers.transfer", first.offer_id),
        ("partners.rhein-shuttle.offers.transfer", second.offer_id),
    ]
    row = await booking_row(db, first.booking_id)
    assert row["status"] == "unassigned"
    states = await db.fetch("SELECT partner_id, state FROM offers ORDER BY sent_at")
    assert [(r["partner_id"], r["state"]) for r in states] == [
        ("main-taxi", "expired"),
        ("rhein-shuttle", "expired"),
    ]


async def test_no_suitable_partner_leaves_the_booking_unassigned_and_alerts_operators(
    client: Client, register: Register, bus: Bus, events: Tap, offers: Tap, db: asyncpg.Connection
) -> None:
    await register("rhein-shuttle", "transfer")  # no ambulance
    await register(
        "munich-ambulance", "transfer", capabilities=["ambulance"], coverage={"airports": ["MUC"]}
    )
    inquiry = str(uuid.uuid4())

    await confirm(bus, confirmed(inquiry, ("transfer", transfer(mobility="stretcher"))))

    seen = await events.until(lambda s: len(of_type(s, OperatorAlert)) == 1)
    alert = of_type(seen, OperatorAlert)[0]
    assert (alert.alert, alert.inquiry_id) == ("booking_unassigned", inquiry)
    change = of_type(seen, BookingStatusChanged)[0]
    assert (change.from_status, change.to_status) == ("requested", "unassigned")
    assert change.booking_id == alert.booking_id
    assert await offers.read() == []
    assert (await booking_row(db, alert.booking_id or ""))["status"] == "unassigned"


async def test_an_unassigned_booking_is_dispatched_again_once_a_suitable_partner_exists(
    client: Client, coordinator: dict[str, str], register: Register, offers: Tap
) -> None:
    await register("rhein-shuttle", "transfer")
    created = await client.post(
        "/v1/bookings",
        json={"kind": "transfer", "details": transfer(mobility="stretcher")},
        headers=coordinator,
    )
    booking_id = created.json()["booking"]["id"]
    path = f"/v1/bookings/{booking_id}/dispatch"

    too_early = await client.post(path, headers=coordinator)
    await register("frankfurt-ambulance", "transfer", capabilities=["ambulance"])
    dispatched = await client.post(path, headers=coordinator)
    again = await client.post(path, headers=coordinator)

    assert created.json()["booking"]["status"] == "unassigned"
    assert too_early.status_code == 409
    assert "still no suitable active transfer partner" in too_early.json()["detail"]
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.json()["booking"]["status"] == "offered"
    assert [o["partner_id"] for o in dispatched.json()["offers"]] == ["frankfurt-ambulance"]
    assert again.status_code == 409
    seen = await offers.until(lambda s: len(s) == 1)
    assert seen[0][0] == "partners.frankfurt-ambulance.offers.transfer"
