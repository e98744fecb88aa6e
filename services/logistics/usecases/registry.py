"""The partner registry, and reading bookings with their history."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.logistics import domain, store
from services.runtime.core.db import Pool, transaction
from services.runtime.core.errors import Conflict, NotFound
from services.runtime.privacy.crypto import KeyRing


async def register_partner(pool: Pool, partner: domain.Partner, *, now: datetime) -> None:
    async with transaction(pool) as conn:
        if not await store.insert_partner(conn, partner, now):
            raise Conflict(
                f"partner {partner.id} exists already; PUT /v1/partners/{partner.id} replaces it"
            )


async def put_partner(pool: Pool, partner: domain.Partner, *, now: datetime) -> bool:
    """Create or replace; True when created."""
    async with transaction(pool) as conn:
        return await store.upsert_partner(conn, partner, now)


async def set_partner_active(
    pool: Pool, partner_id: str, active: bool, *, now: datetime
) -> domain.Partner:
    """A deactivated partner is offered nothing new; what it holds stays with it."""
    async with transaction(pool) as conn:
        partner = await store.set_partner_active(conn, partner_id, active, now)
    if partner is None:
        raise NotFound(f"partner {partner_id} does not exist")
    return partner


async def partner(pool: Pool, partner_id: str) -> domain.Partner:
    async with pool.acquire() as conn:
        found = await store.get_partner(conn, partner_id)
    if found is None:
        raise NotFound(f"partner {partner_id} does not exist")
    return found


async def booking_with_history(
    pool: Pool, keys: KeyRing, booking_id: uuid.UUID
) -> tuple[store.Booking, list[store.TimelineEntry], list[store.OfferRow]]:
    async with pool.acquire() as conn:
        booking = await store.get_booking(conn, keys, booking_id)
        if booking is None:
            raise NotFound(f"booking {booking_id} does not exist")
        return (
            booking,
            await store.timeline(conn, booking_id),
            await store.offers_of(conn, booking_id),
        )
