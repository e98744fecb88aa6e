"""Creating bookings and offering them to partners: the best suitable one first, the next on a
missed deadline, `unassigned` and an operator alert when none is left (the domain decides;
these load what it needs, and save what it decided)."""

from __future__ import annotations

import uuid
from datetime import datetime

from contracts.inquiries import ConsentBasis
from contracts.logistics import BookingDetails
from services.logistics import domain
from services.logistics.store import bookings, consents, offers
from services.logistics.usecases.changes import lock, offering, save, with_offers
from services.logistics.usecases.collaborators import BookingCollaborators
from services.runtime.core.db import Connection, transaction
from services.runtime.core.errors import NotFound


async def create_booking(
    conn: Connection,
    c: BookingCollaborators,
    details: BookingDetails,
    *,
    inquiry_id: str | None,
    now: datetime,
    origin: str | None = None,
    position: int | None = None,
) -> uuid.UUID | None:
    """Create a booking and offer it to the best suitable partner at once, in the caller's
    transaction. None when the requesting event (`origin`, `position`) was applied before."""
    change = domain.create(
        uuid.uuid4(),
        details,
        inquiry_id=inquiry_id,
        offering=await offering(conn, c, domain.kind_of(details)),
        now=now,
    )
    if not await save(conn, c, change, origin=origin, position=position):
        return None
    return change.booking.id


async def remember_sharing_consent(
    conn: Connection, inquiry_id: str, basis: ConsentBasis | None
) -> None:
    """The patient's consent to partner sharing an inquiry's booking requests arrive with, for
    the disclosure record of every offer made for them (in the caller's transaction)."""
    if basis is not None:
        await consents.remember_consent(conn, inquiry_id, basis)


async def withdraw_sharing_consent(conn: Connection, inquiry_id: str, at: datetime) -> None:
    """The patient withdrew their consent to partner sharing: requests that book on it (a
    support case's interpreter) are refused from now on (in the caller's transaction)."""
    await consents.withdraw_consent(conn, inquiry_id, at)


async def request_booking(
    c: BookingCollaborators,
    details: BookingDetails,
    *,
    inquiry_id: str | None,
    now: datetime,
) -> uuid.UUID:
    """A coordinator's booking: never a repeat, so it is always created."""
    async with transaction(c.pool) as conn:
        booking_id = await create_booking(conn, c, details, inquiry_id=inquiry_id, now=now)
    if booking_id is None:  # pragma: no cover - only event-requested bookings are deduplicated
        raise RuntimeError("a coordinator's booking was taken for a repeated event")
    return booking_id


async def dispatch_again(c: BookingCollaborators, booking_id: uuid.UUID, *, now: datetime) -> None:
    """Offer an unassigned booking again, once a coordinator registered or activated a partner
    for it."""
    async with transaction(c.pool) as conn:
        state = await lock(conn, c.keys, booking_id)
        if state is None:
            raise NotFound(f"booking {booking_id} does not exist")
        offer_to = await offering(conn, c, state.booking.kind)
        await save(conn, c, domain.dispatch_again(state, offer_to, now=now))


async def expire_due_offers(c: BookingCollaborators, *, now: datetime, limit: int) -> int:
    """Withdraw offers not answered by their deadline and offer their bookings to the next
    partner; returns how many were claimed."""
    async with transaction(c.pool) as conn:
        due = await offers.claim_due_offers(conn, now, limit)
        for offer_id, booking_id in due:
            # Locked by the claim above.
            booking = await bookings.get_booking(conn, c.keys, booking_id)
            if booking is None:  # pragma: no cover - bookings are never deleted
                continue
            state = await with_offers(conn, booking)
            change = domain.expire(state, offer_id, await offering(conn, c, booking.kind), now=now)
            if change is not None:
                await save(conn, c, change)
    return len(due)
