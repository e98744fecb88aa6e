"""The support desk's request for an interpreter by phone, in the inbox's transaction: load the
patient's sharing consent and the interpreter partners, let the domain book it (or refuse), save
the booking and its offer, or announce the refusal. A request re-sent under another id books the
case once (its origin is the case)."""

from __future__ import annotations

import uuid
from datetime import datetime

from contracts.support import InterpreterRequested
from services.logistics import domain
from services.logistics.store import consents
from services.logistics.usecases.changes import offering, save
from services.logistics.usecases.collaborators import BookingCollaborators
from services.runtime.core.db import Connection


async def book_interpreter_for_case(
    conn: Connection, c: BookingCollaborators, request: InterpreterRequested, *, now: datetime
) -> uuid.UUID | None:
    """The booking's id; None when nothing was booked (refused, or booked before)."""
    decided = domain.book_for_case(
        request,
        consent=await consents.consent_in_force(conn, request.inquiry_id),
        booking_id=uuid.uuid4(),
        offering=await offering(conn, c, "interpreter"),
        now=now,
    )
    if isinstance(decided, domain.Message):
        await c.outbox.emit(conn, decided.subject, decided.event)
        return None
    origin = domain.interpreter_requests.origin_of(request)
    if not await save(conn, c, decided, origin=origin, position=0):
        return None
    return decided.booking.id
