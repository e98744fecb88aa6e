"""Replicas share the work: each deadline is acted on by exactly one of them."""

from __future__ import annotations

import asyncpg

from contracts.partners import Offer, OfferWithdrawn
from tests.integration.logistics.conftest import Start, Tap, of_type
from tests.logistics_samples import partner, transfer
from tests.support import eventually

BOOKINGS = 20


async def test_two_replicas_act_on_each_missed_deadline_once(
    start: Start, coordinator: dict[str, str], offers: Tap, db: asyncpg.Connection
) -> None:
    async with start(OFFER_TIMEOUT="0.5") as one, start(OFFER_TIMEOUT="0.5") as two:
        for partner_id, priority in (("main-taxi", 20), ("rhein-shuttle", 10)):
            await one.put(
                f"/v1/partners/{partner_id}",
                json=partner(partner_id, "transfer", priority=priority),
                headers=coordinator,
            )
        for n in range(BOOKINGS):
            replica = one if n % 2 else two
            response = await replica.post(
                "/v1/bookings",
                json={"kind": "transfer", "details": transfer()},
                headers=coordinator,
            )
            assert response.status_code == 201

        async def all_unassigned() -> bool:
            count = await db.fetchval("SELECT count(*) FROM bookings WHERE status = 'unassigned'")
            unsent = await db.fetchval("SELECT count(*) FROM outbox")
            return bool(count == BOOKINGS and unsent == 0)

        await eventually(all_unassigned, timeout=20)

    seen = await offers.until(lambda s: len(of_type(s, OfferWithdrawn)) >= 2 * BOOKINGS)
    assert len(of_type(seen, Offer)) == 2 * BOOKINGS
    assert len(of_type(seen, OfferWithdrawn)) == 2 * BOOKINGS
    assert len({w.offer_id for w in of_type(seen, OfferWithdrawn)}) == 2 * BOOKINGS
    expired = await db.fetchval("SELECT count(*) FROM offers WHERE state = 'expired'")
    timeline = await db.fetchval(
        "SELECT count(*) FROM booking_timeline WHERE entry = 'offer_expired'"
    )
    assert expired == timeline == 2 * BOOKINGS
