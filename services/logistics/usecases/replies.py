"""What partners answer: acceptance, decline and progress, from the partner whose subject the
reply arrived on and about nothing else."""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog

from contracts.partners import (
    IncidentReported,
    OfferAccepted,
    OfferDeclined,
    PartnerReply,
    StatusUpdate,
    SupportRequest,
)
from services.logistics import domain
from services.logistics.store import offers
from services.logistics.usecases.changes import lock, offering, save
from services.logistics.usecases.collaborators import BookingCollaborators
from services.logistics.usecases.incidents import record_incident
from services.logistics.usecases.support_requests import forward_support_request
from services.runtime.core.db import Connection, transaction
from services.runtime.core.errors import Conflict, NotYet

log = structlog.get_logger(__name__)


async def answer_partner(
    conn: Connection,
    c: BookingCollaborators,
    reply: PartnerReply,
    sender: str,
    *,
    report_id: str,
    now: datetime,
) -> None:
    """Whatever partner `sender` sent, by either channel (its NATS replies subject, or the
    reply API with its token), in the caller's transaction: one set of rules for both."""
    match reply:
        case IncidentReported():
            await record_incident(conn, c, reply, sender, report_id=report_id, now=now)
        case SupportRequest():
            await forward_support_request(conn, c, reply, sender, now)
        case _:
            await apply_reply(conn, c, reply, sender, now)


async def answer_over_http(
    c: BookingCollaborators, reply: PartnerReply, sender: str, *, now: datetime
) -> None:
    """A reply from the reply API, applied at once in a transaction of its own. Progress that
    cannot apply yet (its acceptance is not applied) is refused rather than kept for later:
    the partner sends it again."""
    try:
        async with transaction(c.pool) as conn:
            await answer_partner(conn, c, reply, sender, report_id=str(uuid.uuid4()), now=now)
    except NotYet as exc:
        raise Conflict(f"{exc.detail}; send it again once that is done") from None


async def apply_reply(
    conn: Connection,
    c: BookingCollaborators,
    reply: OfferAccepted | OfferDeclined | StatusUpdate,
    sender: str,
    now: datetime,
) -> None:
    """Apply what partner `sender` answered, in the caller's transaction. A reply about an
    offer or booking the sender does not hold, a stale or repeated answer, or a step of another
    kind raises a DomainError: the consumer keeps it as a dead letter and nothing changes.
    Progress that comes before the sender's acceptance was applied raises NotYet (retried
    later); progress the booking has already passed changes nothing."""
    match reply:
        case OfferAccepted() | OfferDeclined():
            state = await _state_of_offer(conn, c, reply.offer_id)
            if isinstance(reply, OfferAccepted):
                await save(conn, c, domain.accept(state, reply.offer_id, sender, now=now))
                return
            # No booking, no one to offer it to: the domain refuses the reply.
            offer_to = await offering(conn, c, state.booking.kind if state else None)
            await save(conn, c, domain.decline(state, reply, sender, offer_to, now=now))
        case StatusUpdate():
            booking_id = domain.parse_id(reply.booking_id, "booking_id")
            state = await lock(conn, c.keys, booking_id)
            change = domain.report_progress(state, reply, sender, now=now)
            if change is None:
                log.info("progress already passed", booking_id=reply.booking_id, step=reply.status)
                return
            await save(conn, c, change)


async def _state_of_offer(
    conn: Connection, c: BookingCollaborators, offer_id: str
) -> domain.BookingState | None:
    """The state of the booking an offer was made for, locked; its offers are read under the
    lock, so a deadline or another reply that closed the offer first is seen."""
    found = await offers.get_offer(conn, domain.parse_id(offer_id, "offer_id"))
    return None if found is None else await lock(conn, c.keys, found.booking_id)
