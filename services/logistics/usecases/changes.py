"""Load and save around a decision: the booking's state is read (and locked) before the domain
decides, and the change it returns is written at once, in the caller's transaction."""

from __future__ import annotations

import uuid

from contracts.logistics import BookingKind
from contracts.partners import Offer
from services.logistics import domain
from services.logistics.store import bookings, consents, offers, partners
from services.logistics.usecases import partner_webhooks
from services.logistics.usecases.collaborators import BookingCollaborators
from services.runtime.core.db import Connection
from services.runtime.privacy import disclosures
from services.runtime.privacy.crypto import KeyRing


async def lock(
    conn: Connection, keys: KeyRing, booking_id: uuid.UUID
) -> domain.BookingState | None:
    """The booking under its row lock, with its offers and their partners' names."""
    booking = await bookings.lock_booking(conn, keys, booking_id)
    return None if booking is None else await with_offers(conn, booking)


async def with_offers(conn: Connection, booking: domain.Booking) -> domain.BookingState:
    """The state of a booking already read (and locked) by the caller."""
    made, partner_names = await offers.offers_and_partner_names(conn, booking.id)
    return domain.BookingState(booking=booking, offers=tuple(made), partner_names=partner_names)


async def offering(
    conn: Connection, c: BookingCollaborators, kind: BookingKind | None
) -> domain.Offering:
    """What a decision needs to offer a booking of `kind` to the next partner (no one, for a
    booking that does not exist)."""
    return domain.Offering(
        partners=tuple(await partners.active_partners(conn, kind)) if kind else (),
        timeout=c.offer_timeout,
        offer_id=uuid.uuid4(),
    )


async def save(
    conn: Connection,
    c: BookingCollaborators,
    change: domain.Change,
    *,
    origin: str | None = None,
    position: int | None = None,
) -> bool:
    """Write the change and queue its events; False (and nothing written) when it creates a
    booking that the same requesting event (`origin`, `position`) created before."""
    booking = change.booking
    if change.before is None:
        if not await bookings.insert_booking(
            conn, c.keys, booking, origin=origin, position=position
        ):
            return False
    elif change.moved:
        await bookings.update_booking_status(
            conn,
            booking.id,
            status=booking.status,
            version=booking.version,
            partner_id=booking.partner_id,
            progress=booking.progress,
            now=change.at,
        )
    if change.before is not None and booking.arrangement != change.before.arrangement:
        await bookings.replace_arrangement(conn, c.keys, booking.id, booking.arrangement)
    if change.erased:
        await bookings.replace_details(conn, c.keys, booking.id, booking.details, change.at)
        await bookings.wipe_free_text(conn, booking.id)
    for closed in change.closed:
        await offers.close_offer(
            conn, closed.id, state=closed.state, reason=closed.reason, now=change.at
        )
    if change.opened is not None:
        await offers.insert_offer(
            conn,
            id=change.opened.id,
            booking_id=booking.id,
            partner_id=change.opened.partner_id,
            sent_at=change.at,
            respond_by=change.opened.respond_by,
        )
    for entry in change.timeline:
        await bookings.insert_timeline(
            conn,
            booking.id,
            at=entry.at,
            entry=entry.entry,
            status=entry.status,
            partner_id=entry.partner_id,
            detail=entry.detail,
        )
    for message in change.messages:
        event_id = await c.outbox.emit(
            conn, message.subject, message.event, erasure_key=message.erasure_key
        )
        # A partner on the webhook channel gets the same message, under the same id.
        await partner_webhooks.queue(conn, c, message, event_id, now=change.at)
        if isinstance(message.event, Offer) and change.opened is not None:
            # What the partner was sent about the traveller, for the case's disclosure log.
            await disclosures.record(
                conn,
                inquiry_id=booking.inquiry_id,
                kind="partner_offer",
                recipient_type="partner",
                recipient=change.opened.partner_id,
                fields=disclosures.carried_fields(message.event),
                reference=message.event.offer_id,
                at=change.at,
                consent=await consents.consent_of(conn, booking.inquiry_id),
            )
    _count(c, change)
    return True


# Where a booking's dispatch ends: a partner took it, or none is left to offer it to.
_DISPATCHED = {"confirmed": "accepted", "unassigned": "unassigned"}


def _count(c: BookingCollaborators, change: domain.Change) -> None:
    """Offers answered, expired or withdrawn, and dispatches ended, with how long each took.
    Counted as the change is saved; a rolled-back transaction (rare: a lost race) may count
    once too often, which rates of outcomes absorb."""
    for closed in change.closed:
        c.outcomes.outcome("offer", closed.state, (change.at - closed.sent_at).total_seconds())
    before, booking = change.before, change.booking
    ended = _DISPATCHED.get(booking.status)
    if ended is not None and (before is None or before.status != booking.status):
        c.outcomes.outcome("dispatch", ended, (change.at - booking.created_at).total_seconds())
