"""Erasure: the traveller leaves the bookings, the anonymous bookings stay, and every partner that
was offered one of them is asked to erase its copy."""

from __future__ import annotations

from datetime import datetime

from contracts.partners import DataErasureRequested
from contracts.registry import PARTNER_OFFERS
from services.logistics import domain, store
from services.logistics.usecases.dispatch import Dispatch
from services.runtime.core.db import Connection


async def erase_inquiry(conn: Connection, d: Dispatch, inquiry_id: str, *, now: datetime) -> None:
    """Wipe the traveller from every booking of the inquiry; the anonymous bookings stay.

    The anonymous details are sealed anew, so the old ciphertext, which any key of the ring
    could still open, is gone from the row rather than left beside a flag. Each offer carried
    the traveller to its partner, whatever the partner answered, so each partner offered a
    booking is asked to erase it, in this transaction (GDPR Art. 19)."""
    for booking in await store.lock_bookings_of_inquiry(conn, d.keys, inquiry_id):
        if booking.erased_at is not None:
            continue
        await store.replace_details(conn, d.keys, booking.id, domain.erased(booking.details), now)
        await store.wipe_free_text(conn, booking.id)
        await store.insert_timeline(
            conn, booking.id, at=now, entry="personal_data_erased", status=booking.status
        )
        for offer in await store.offers_of(conn, booking.id):
            await d.outbox.emit(
                conn,
                PARTNER_OFFERS.subject(partner_id=offer.partner_id, kind=booking.kind),
                DataErasureRequested(
                    offer_id=str(offer.id), booking_id=str(booking.id), erased_at=now
                ),
            )
            await store.insert_timeline(
                conn,
                booking.id,
                at=now,
                entry="partner_asked_to_erase",
                status=booking.status,
                partner_id=offer.partner_id,
                detail={"offer_id": str(offer.id)},
            )
