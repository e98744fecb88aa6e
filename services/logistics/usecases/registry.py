"""The partner registry, and reading bookings with their history."""

from __future__ import annotations

import uuid
from datetime import datetime

from contracts.logistics import BookingKind, BookingStatus
from services.logistics import domain
from services.logistics.store import bookings, offers, partners
from services.logistics.usecases import credentials
from services.logistics.usecases.collaborators import WebhookPolicy
from services.logistics.usecases.credentials import Credentials
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import Conflict, Invalid, NotFound
from services.runtime.messaging import webhooks
from services.runtime.privacy.crypto import KeyRing

# The production rules: https only, outside private address ranges.
NO_PRIVATE_URLS = WebhookPolicy()


async def register_partner(
    pool: Pool,
    partner: domain.Partner,
    *,
    now: datetime,
    keys: KeyRing | None = None,
    policy: WebhookPolicy = NO_PRIVATE_URLS,
) -> Credentials | None:
    """Register a new partner; a webhook partner's credentials are answered, once."""
    domain.check_partner_id(partner.id)
    _check_channel(partner.channel, policy)
    async with transaction(pool) as conn:
        if not await partners.insert_partner(conn, partner, now):
            raise Conflict(
                f"partner {partner.id} exists already; PUT /v1/partners/{partner.id} replaces it"
            )
        return await _credentials_if_new(conn, partner, keys, now)


async def put_partner(
    pool: Pool,
    partner: domain.Partner,
    *,
    now: datetime,
    keys: KeyRing | None = None,
    policy: WebhookPolicy = NO_PRIVATE_URLS,
) -> tuple[bool, Credentials | None]:
    """Create or replace; True when created. Credentials are issued (and answered) when the
    partner takes the webhook channel without valid ones; a repeated PUT issues none, a
    rotation (`credentials.rotate`) replaces them."""
    domain.check_partner_id(partner.id)
    _check_channel(partner.channel, policy)
    async with transaction(pool) as conn:
        created = await partners.upsert_partner(conn, partner, now)
        return created, await _credentials_if_new(conn, partner, keys, now)


def _check_channel(channel: domain.Channel, policy: WebhookPolicy) -> None:
    if isinstance(channel, domain.WebhookChannel):
        try:
            webhooks.check_url(channel.url, allow_private=policy.allow_private)
        except webhooks.UrlRefused as exc:
            raise Invalid.single("channel.url", str(exc)) from None


async def _credentials_if_new(
    conn: Connection, partner: domain.Partner, keys: KeyRing | None, now: datetime
) -> Credentials | None:
    if not isinstance(partner.channel, domain.WebhookChannel):
        return None
    if await credentials.has_valid(conn, partner.id, now=now):
        return None
    if keys is None:  # pragma: no cover - the service always passes its key ring
        raise RuntimeError("a webhook partner's credentials need the key ring")
    return await credentials.issue(conn, keys, partner.id, now=now)


async def set_partner_active(
    pool: Pool, partner_id: str, active: bool, *, now: datetime
) -> domain.Partner:
    """A deactivated partner is offered nothing new; what it holds stays with it."""
    async with transaction(pool) as conn:
        partner = await partners.set_partner_active(conn, partner_id, active, now)
    if partner is None:
        raise NotFound(f"partner {partner_id} does not exist")
    return partner


async def partner(pool: Pool, partner_id: str) -> domain.Partner:
    async with pool.acquire() as conn:
        found = await partners.get_partner(conn, partner_id)
    if found is None:
        raise NotFound(f"partner {partner_id} does not exist")
    return found


async def partners_listed(
    pool: Pool, *, kind: BookingKind | None, active: bool | None
) -> list[domain.Partner]:
    """Highest priority first."""
    async with pool.acquire() as conn:
        return await partners.list_partners(conn, kind=kind, active=active)


async def booking_with_history(
    pool: Pool, keys: KeyRing, booking_id: uuid.UUID
) -> tuple[domain.Booking, list[domain.TimelineEntry], list[domain.OfferRow]]:
    async with pool.acquire() as conn:
        booking = await bookings.get_booking(conn, keys, booking_id)
        if booking is None:
            raise NotFound(f"booking {booking_id} does not exist")
        return (
            booking,
            await bookings.timeline(conn, booking_id),
            await offers.offers_of(conn, booking_id),
        )


async def bookings_listed(
    pool: Pool,
    keys: KeyRing,
    *,
    inquiry_id: str | None,
    status: BookingStatus | None,
    kind: BookingKind | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[domain.Booking]:
    """Oldest first, from after the (created_at, id) position `after`."""
    async with pool.acquire() as conn:
        return await bookings.list_bookings(
            conn, keys, inquiry_id=inquiry_id, status=status, kind=kind, after=after, limit=limit
        )
