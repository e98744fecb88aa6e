"""Booking commands on a real database: each loads what its decision needs, lets the domain
decide and saves the change in one transaction; a refused command saves nothing."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from contracts.partners import OfferAccepted, OfferDeclined, StatusUpdate
from services.logistics import usecases
from services.runtime.core.db import Pool, transaction
from services.runtime.core.errors import Conflict, IllegalTransition, Invalid, NotFound, NotYet
from tests.usecases.logistics.conftest import NOW, a_transfer, announced, register

Bookings = usecases.BookingCollaborators


async def test_a_requested_booking_is_saved_offered_to_the_best_partner(
    pool: Pool, bookings: Bookings
) -> None:
    await register(pool, "low-cars", priority=5)
    await register(pool, "top-cars", priority=50)

    booking_id = await usecases.request_booking(bookings, a_transfer(), inquiry_id=None, now=NOW)

    booking, timeline, offers = await usecases.booking_with_history(pool, bookings.keys, booking_id)
    assert (booking.status, booking.version) == ("offered", 2)
    assert [o.partner_id for o in offers] == ["top-cars"]
    assert [e.entry for e in timeline] == ["created", "offered"]
    assert await announced(pool) == [
        "logistics.booking.created.v1",
        "partners.top-cars.offers.transfer",
        "logistics.booking.status_changed.v1",
    ]


async def test_a_booking_requested_twice_by_the_same_event_is_created_once(
    pool: Pool, bookings: Bookings
) -> None:
    await register(pool, "cars")
    created = []
    for _ in range(2):
        async with transaction(pool) as conn:
            created.append(
                await usecases.create_booking(
                    conn,
                    bookings,
                    a_transfer(),
                    inquiry_id="inq-1",
                    now=NOW,
                    origin="confirmed",
                    position=0,
                )
            )

    assert created[0] is not None
    assert created[1] is None
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM offers") == 1


async def test_an_acceptance_confirms_and_names_the_partner_without_reading_it_again(
    pool: Pool, bookings: Bookings
) -> None:
    await register(pool, "cars", name="Rhein-Main Cars GmbH")
    booking_id = await usecases.request_booking(bookings, a_transfer(), inquiry_id=None, now=NOW)
    _, _, [offer] = await usecases.booking_with_history(pool, bookings.keys, booking_id)

    async with transaction(pool) as conn:
        await usecases.apply_reply(
            conn, bookings, OfferAccepted(offer_id=str(offer.id)), "cars", NOW
        )

    booking, _, _ = await usecases.booking_with_history(pool, bookings.keys, booking_id)
    assert (booking.status, booking.partner_id) == ("confirmed", "cars")
    async with pool.acquire() as conn:
        payload = await conn.fetchval(
            """SELECT payload FROM outbox WHERE subject = 'logistics.booking.status_changed.v1'
               ORDER BY seq DESC LIMIT 1"""
        )
    changed = msgspec.json.decode(payload)
    assert (changed["to_status"], changed["partner_name"]) == ("confirmed", "Rhein-Main Cars GmbH")


async def test_a_decline_offers_the_booking_to_the_next_partner(
    pool: Pool, bookings: Bookings
) -> None:
    await register(pool, "first", priority=50)
    await register(pool, "second", priority=5)
    booking_id = await usecases.request_booking(bookings, a_transfer(), inquiry_id=None, now=NOW)
    _, _, [offer] = await usecases.booking_with_history(pool, bookings.keys, booking_id)

    async with transaction(pool) as conn:
        await usecases.apply_reply(
            conn,
            bookings,
            OfferDeclined(offer_id=str(offer.id), reason="no_capacity"),
            "first",
            NOW,
        )

    booking, _, offers = await usecases.booking_with_history(pool, bookings.keys, booking_id)
    assert booking.status == "offered"
    # Both offers were made at NOW: their order in the history is not what is tested.
    assert {(o.partner_id, o.state) for o in offers} == {("first", "declined"), ("second", "open")}


async def test_progress_before_the_acceptance_is_not_yet_and_saves_nothing(
    pool: Pool, bookings: Bookings
) -> None:
    await register(pool, "cars")
    booking_id = await usecases.request_booking(bookings, a_transfer(), inquiry_id=None, now=NOW)
    before = await announced(pool)

    update = StatusUpdate(booking_id=str(booking_id), status="driver_assigned")
    with pytest.raises(NotYet):
        async with transaction(pool) as conn:
            await usecases.apply_reply(conn, bookings, update, "cars", NOW)

    booking, _, _ = await usecases.booking_with_history(pool, bookings.keys, booking_id)
    assert booking.status == "offered"
    assert await announced(pool) == before


async def test_a_reply_about_an_unknown_offer_is_refused(pool: Pool, bookings: Bookings) -> None:
    async with transaction(pool) as conn:
        with pytest.raises(Conflict, match="holds no offer"):
            await usecases.apply_reply(
                conn, bookings, OfferAccepted(offer_id=str(uuid.uuid4())), "cars", NOW
            )
        with pytest.raises(Invalid):
            await usecases.apply_reply(
                conn, bookings, OfferAccepted(offer_id="not-a-uuid"), "cars", NOW
            )


async def test_an_unassigned_booking_is_dispatched_again_only_once_a_partner_exists(
    pool: Pool, bookings: Bookings
) -> None:
    booking_id = await usecases.request_booking(bookings, a_transfer(), inquiry_id=None, now=NOW)
    booking, _, _ = await usecases.booking_with_history(pool, bookings.keys, booking_id)
    assert booking.status == "unassigned"

    with pytest.raises(Conflict, match="still no suitable active transfer partner"):
        await usecases.dispatch_again(bookings, booking_id, now=NOW)

    await register(pool, "cars")
    await usecases.dispatch_again(bookings, booking_id, now=NOW)
    booking, _, offers = await usecases.booking_with_history(pool, bookings.keys, booking_id)
    assert booking.status == "offered"
    assert [o.partner_id for o in offers] == ["cars"]


async def test_commands_on_a_booking_that_does_not_exist_are_not_found(bookings: Bookings) -> None:
    with pytest.raises(NotFound):
        await usecases.cancel_booking(bookings, uuid.uuid4(), reason="off", now=NOW)
    with pytest.raises(NotFound):
        await usecases.dispatch_again(bookings, uuid.uuid4(), now=NOW)


async def test_a_cancelled_booking_refuses_to_be_cancelled_again(
    pool: Pool, bookings: Bookings
) -> None:
    await register(pool, "cars")
    booking_id = await usecases.request_booking(bookings, a_transfer(), inquiry_id=None, now=NOW)
    cancelled = await usecases.cancel_booking(bookings, booking_id, reason="off", now=NOW)
    assert cancelled.status == "cancelled"

    with pytest.raises(IllegalTransition):
        await usecases.cancel_booking(bookings, booking_id, reason="off", now=NOW)
    _, _, [offer] = await usecases.booking_with_history(pool, bookings.keys, booking_id)
    assert offer.state == "withdrawn"


async def test_an_offer_past_its_deadline_goes_to_the_next_partner(
    pool: Pool, bookings: Bookings
) -> None:
    await register(pool, "first", priority=50)
    await register(pool, "second", priority=5)
    booking_id = await usecases.request_booking(bookings, a_transfer(), inquiry_id=None, now=NOW)

    later = NOW + bookings.offer_timeout
    assert await usecases.expire_due_offers(bookings, now=later, limit=10) == 1

    _, timeline, offers = await usecases.booking_with_history(pool, bookings.keys, booking_id)
    assert [(o.partner_id, o.state) for o in offers] == [("first", "expired"), ("second", "open")]
    assert [e.entry for e in timeline][-2:] == ["offer_expired", "offered"]
