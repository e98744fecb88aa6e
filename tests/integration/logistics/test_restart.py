"""Logistics stopped mid-flow and started again loses and doubles nothing: deadlines live in the
database, and replies and inquiry events wait in their streams."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from contracts.logistics import BookingCreated
from contracts.partners import Offer, OfferAccepted, OfferWithdrawn, StatusUpdate
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import (
    Start,
    Tap,
    booking_row,
    dead_letters,
    of_type,
    reply,
)
from tests.integration.logistics.test_dispatch import confirm, confirmed, offer_to
from tests.logistics_samples import interpreter, partner, transfer
from tests.support import eventually


async def test_a_restart_mid_flow_loses_and_doubles_nothing(
    start: Start,
    coordinator: dict[str, str],
    bus: Bus,
    offers: Tap,
    events: Tap,
    db: asyncpg.Connection,
) -> None:
    inquiry, later = str(uuid.uuid4()), str(uuid.uuid4())
    async with start(OFFER_TIMEOUT="1") as client:
        for partner_id, kind, priority in (
            ("main-taxi", "transfer", 20),
            ("rhein-shuttle", "transfer", 10),
            ("dolmetscher-uk", "interpreter", 10),
        ):
            await client.put(
                f"/v1/partners/{partner_id}",
                json=partner(partner_id, kind, priority=priority),
                headers=coordinator,
            )
        await confirm(
            bus, confirmed(inquiry, ("transfer", transfer()), ("interpreter", interpreter()))
        )
        seen = await offers.until(lambda s: len(s) == 2)
        ride = offer_to(seen, "main-taxi")
        talk = offer_to(seen, "dolmetscher-uk")
        await reply(bus, "dolmetscher-uk", OfferAccepted(offer_id=talk.offer_id))

        async def talk_confirmed() -> bool:
            return (await booking_row(db, talk.booking_id))["status"] == "confirmed"

        await eventually(talk_confirmed)

    # Down: the interpreter reports progress, the driver's deadline passes unanswered, and
    # another inquiry is confirmed.
    await reply(
        bus,
        "dolmetscher-uk",
        StatusUpdate(booking_id=talk.booking_id, status="interpreter_assigned"),
    )
    await reply(
        bus, "dolmetscher-uk", StatusUpdate(booking_id=talk.booking_id, status="session_done")
    )
    await confirm(bus, confirmed(later, ("transfer", transfer(flight_number="LH1493"))))

    async def deadline_passed() -> bool:
        return datetime.now(UTC) > ride.respond_by

    await eventually(deadline_passed, timeout=5)
    assert (await booking_row(db, ride.booking_id))["status"] == "offered"

    async with start(OFFER_TIMEOUT="60"):
        seen = await offers.until(lambda s: len(of_type(s, Offer)) == 4)

        async def settled() -> bool:
            progress = (await booking_row(db, talk.booking_id))["progress"]
            unsent = await db.fetchval("SELECT count(*) FROM outbox")
            return progress == "session_done" and unsent == 0

        await eventually(settled)

    offered_to = sorted((s.split(".")[1], o.booking_id) for s, o in seen if isinstance(o, Offer))
    later_booking = await db.fetchval("SELECT id::text FROM bookings WHERE inquiry_id = $1", later)
    assert offered_to == sorted(
        [
            ("main-taxi", ride.booking_id),
            ("dolmetscher-uk", talk.booking_id),
            ("rhein-shuttle", ride.booking_id),
            ("main-taxi", later_booking),
        ]
    )
    withdrawn = [(s, o.offer_id) for s, o in seen if isinstance(o, OfferWithdrawn)]
    assert withdrawn == [("partners.main-taxi.offers.transfer", ride.offer_id)]
    states = await db.fetch(
        "SELECT partner_id, state FROM offers WHERE booking_id = $1 ORDER BY sent_at",
        uuid.UUID(ride.booking_id),
    )
    assert [(r["partner_id"], r["state"]) for r in states] == [
        ("main-taxi", "expired"),
        ("rhein-shuttle", "open"),
    ]
    assert (await booking_row(db, talk.booking_id))["status"] == "in_progress"
    assert await db.fetchval("SELECT count(*) FROM bookings") == 3
    created = of_type(await events.read(), BookingCreated)
    assert len(created) == len({c.booking_id for c in created}) == 3
    assert await dead_letters(db) == []
