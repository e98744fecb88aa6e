"""The webhook channel of partners: what logistics announces on a partner's offers subject is
also queued as a webhook for a partner registered with a URL (in the same transaction, so the
webhook goes out exactly when the NATS message does); the sender finds a partner's URL and
secrets at send time; and the reply API shows a partner the offers it still holds."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from contracts.partners import Offer
from contracts.registry import PARTNER_OFFERS
from services.logistics import domain
from services.logistics.store import bookings, offers, partners
from services.logistics.usecases import credentials
from services.logistics.usecases.collaborators import BookingCollaborators
from services.runtime.core.db import Connection
from services.runtime.messaging import webhooks

_OFFERS_PREFIX, _OFFERS_INFIX = PARTNER_OFFERS.address.split(".")[0], "offers"


def partner_of(subject: str) -> str | None:
    """The partner a message on `partners.{partner_id}.offers.{kind}` is for; None for any
    other subject (events, alerts)."""
    parts = subject.split(".")
    if len(parts) == 4 and parts[0] == _OFFERS_PREFIX and parts[2] == _OFFERS_INFIX:
        return parts[1]
    return None


async def queue(
    conn: Connection,
    c: BookingCollaborators,
    message: domain.Message,
    message_id: str,
    *,
    now: datetime,
) -> None:
    """Queue `message` (emitted as `message_id`) as a webhook when its partner takes them: the
    same JSON body, signed at send time. An offer is tried until its deadline, after which it
    goes to the next partner anyway; a withdrawal or erasure notice for `notice_window`."""
    partner_id = partner_of(message.subject)
    if partner_id is None or await partners.webhook_url(conn, partner_id) is None:
        return
    event = message.event
    deliver_by = event.respond_by if isinstance(event, Offer) else now + c.webhooks.notice_window
    await webhooks.enqueue(
        conn,
        endpoint=partner_id,
        message_id=message_id,
        payload=msgspec.json.encode(event),
        deliver_by=deliver_by,
        now=now,
        # Sealed as the booking details are: an offer names the traveller.
        keys=c.keys,
        erasure_key=message.erasure_key,
    )


def endpoints(c: BookingCollaborators) -> webhooks.Endpoints:
    """A partner's URL and signing secrets as they are now; None when it left the channel."""

    async def find(conn: Connection, partner_id: str) -> webhooks.Target | None:
        url = await partners.webhook_url(conn, partner_id)
        if url is None:
            return None
        found = await credentials.signing_secrets(conn, c.keys, partner_id, now=datetime.now(UTC))
        return None if not found else webhooks.Target(url=url, secrets=found)

    return find


async def open_offers(c: BookingCollaborators, partner_id: str, *, now: datetime) -> list[Offer]:
    """The offers the partner may still answer, as it was sent them, oldest first."""
    async with c.pool.acquire() as conn:
        held = await offers.open_offers_of(conn, partner_id, now)
        found: list[Offer] = []
        for offer in held:
            booking = await bookings.get_booking(conn, c.keys, offer.booking_id)
            if booking is not None:
                found.append(domain.offer_message(booking, offer))
        return found
