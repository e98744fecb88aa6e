"""What partners answer: acceptance, decline and progress, from the partner whose subject the
reply arrived on and about nothing else."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
import structlog

from contracts.partners import OfferAccepted, OfferDeclined, StatusUpdate
from services.logistics import domain, store
from services.logistics.usecases.dispatch import Dispatch, move, offer_to_next_partner
from services.runtime.core.db import Connection
from services.runtime.core.errors import Conflict, Invalid, NotYet
from services.runtime.privacy.crypto import KeyRing

log = structlog.get_logger(__name__)


async def apply_reply(
    conn: Connection,
    d: Dispatch,
    reply: OfferAccepted | OfferDeclined | StatusUpdate,
    sender: str,
    now: datetime,
) -> None:
    """Apply what partner `sender` answered. A reply about an offer or booking the sender does
    not hold, a stale or repeated answer, or a step of another kind raises a DomainError: the
    consumer keeps it as a dead letter and nothing changes. Progress that comes before the
    sender's acceptance was applied raises NotYet (retried later); progress the booking has
    already passed changes nothing."""
    match reply:
        case OfferAccepted() | OfferDeclined():
            booking, offer = await _lock_offer(conn, d.keys, reply.offer_id, sender)
            if isinstance(reply, OfferAccepted):
                await store.close_offer(conn, offer.id, state="accepted", reason=None, now=now)
                await move(
                    conn,
                    d.outbox,
                    msgspec.structs.replace(booking, partner_id=sender),
                    "confirmed",
                    now,
                    entry="offer_accepted",
                    detail={"offer_id": str(offer.id)},
                )
                return
            await store.close_offer(conn, offer.id, state="declined", reason=reply.reason, now=now)
            await store.insert_timeline(
                conn,
                booking.id,
                at=now,
                entry="offer_declined",
                status=booking.status,
                partner_id=sender,
                detail=_without_none(
                    {"offer_id": str(offer.id), "reason": reply.reason, "note": reply.note}
                ),
            )
            await offer_to_next_partner(conn, d, booking, now)
        case StatusUpdate():
            booking_id = parse_id(reply.booking_id, "booking_id")
            held = await store.lock_booking(conn, d.keys, booking_id)
            if held is not None and held.partner_id is None:
                offers = await store.offers_of(conn, held.id)
                if any(o.partner_id == sender and o.state == "open" for o in offers):
                    raise NotYet(f"partner {sender}'s acceptance of {reply.booking_id} is not in")
            if held is None or held.partner_id != sender:
                raise Conflict(f"partner {sender} holds no booking {reply.booking_id}")
            target = domain.progress_target(held.kind, held.status, held.progress, reply.status)
            if target is None:
                log.info("progress already passed", booking_id=reply.booking_id, step=reply.status)
                return
            await move(
                conn,
                d.outbox,
                msgspec.structs.replace(held, progress=reply.status),
                target,
                now,
                entry=reply.status,
                detail=_without_none(
                    {
                        "note": reply.note,
                        "driver_name": reply.driver_name,
                        "vehicle": reply.vehicle,
                        "interpreter_name": reply.interpreter_name,
                        "carrier": reply.carrier,
                        "tracking_number": reply.tracking_number,
                        "at": reply.at.isoformat() if reply.at else None,
                    }
                ),
            )


async def _lock_offer(
    conn: Connection, keys: KeyRing, offer_id: str, sender: str
) -> tuple[store.Booking, store.OfferRow]:
    found = await store.get_offer(conn, parse_id(offer_id, "offer_id"))
    if found is None or found.partner_id != sender:
        raise Conflict(f"partner {sender} holds no offer {offer_id}")
    booking = await store.lock_booking(conn, keys, found.booking_id)
    # Read again under the booking's lock: a deadline or another reply may have closed it.
    offer = await store.get_offer(conn, found.id)
    if booking is None or offer is None:  # pragma: no cover - rows are never deleted
        raise RuntimeError("offer or booking vanished")
    if offer.state != "open":
        raise Conflict(f"offer {offer_id} is {offer.state} already: the reply is stale")
    return booking, offer


def parse_id(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid.single(field, "is not a UUID") from None


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
