"""The support desk's request for an interpreter by phone (nobody on call speaks the patient's
language): booked as an interpreter booking like any other, for a phone session as soon as one
can start, and answered to the desk: refused when there is no inquiry to book it for (a
partner's case) or the patient has not consented to sharing with partners, and otherwise when
its dispatch ends (a partner took it, or none is left: `answer`). The command itself is
`decisions.book_for_case`; these are its rules.

What the partner gets is what the interpreter allow-list gives any interpreter booking, of
details that hold no more than the session needs: the languages, the time, "by phone", and in
the traveller's place the desk, whose call the interpreter joins. The case's thread never
leaves support, and nothing of the patient reaches the partner but their language."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from contracts.logistics import (
    InterpreterDetails,
    InterpreterRequestAnswered,
    InterpreterSession,
    Traveller,
)
from contracts.registry import INTERPRETER_REQUEST_ANSWERED
from contracts.support import InterpreterRequested
from services.logistics.domain.model import Booking, Message

# Interpreter sessions are in the clinic's local time (the clinics are in Germany).
CLINIC_TIME = ZoneInfo("Europe/Berlin")
# The desk's language, which the interpreter translates to: Carebridge works in German.
DESK_LANGUAGE = "de"
SESSION_MINUTES = 30
# The session starts on the next quarter of an hour at least this far ahead: time for the
# partner to answer and for its interpreter to be free.
LEAD_TIME = timedelta(minutes=10)
PLACE = "By phone: the Carebridge support desk calls the interpreter at the session's start"
# Whom the interpreter serves: the desk's call, not a meeting with the traveller.
DESK = Traveller(full_name="Carebridge support desk")
# The event's origin on the booking: one booking per case, whatever id its request comes under.
ORIGIN_PREFIX = "support:"


def session_start(now: datetime) -> datetime:
    """The next quarter of an hour at least LEAD_TIME after `now`, in the clinic's time."""
    earliest = (now + LEAD_TIME).astimezone(CLINIC_TIME)
    quarter = earliest.replace(
        minute=earliest.minute - earliest.minute % 15, second=0, microsecond=0
    )
    return quarter if quarter == earliest else quarter + timedelta(minutes=15)


def phone_session(language: str, now: datetime) -> InterpreterDetails:
    """An interpreter between the patient's language and the desk's, by phone, soon."""
    start = session_start(now)
    return InterpreterDetails(
        language_from=language,
        language_to=DESK_LANGUAGE,
        specialty="general",
        sessions=(
            InterpreterSession(
                date=start.date(),
                start=start.time().replace(tzinfo=None),
                duration_minutes=SESSION_MINUTES,
                place=PLACE,
                purpose="other",
            ),
        ),
        patient=msgspec.structs.replace(DESK, language=language),
    )


def refusal(
    request: InterpreterRequested, reason: Literal["no_inquiry", "no_consent"], now: datetime
) -> Message:
    return Message(
        subject=INTERPRETER_REQUEST_ANSWERED.subject(),
        event=InterpreterRequestAnswered(
            case_id=request.case_id,
            inquiry_id=request.inquiry_id,
            outcome="refused",
            reason=reason,
            answered_at=now,
        ),
    )


def answer(booking: Booking, partner_name: str | None, now: datetime) -> Message | None:
    """What the desk is told when a case's booking reaches `confirmed` (booked, with the partner
    and the session's time) or `unassigned` (no interpreter available); None for another
    booking or another state."""
    if booking.support_case_id is None:
        return None
    outcome: Literal["booked", "unavailable"]
    match booking.status:
        case "confirmed":
            outcome = "booked"
        case "unassigned":
            outcome = "unavailable"
        case _:
            return None
    booked = outcome == "booked"
    return Message(
        subject=INTERPRETER_REQUEST_ANSWERED.subject(),
        event=InterpreterRequestAnswered(
            case_id=booking.support_case_id,
            inquiry_id=booking.inquiry_id,
            outcome=outcome,
            booking_id=str(booking.id),
            partner_id=booking.partner_id if booked else None,
            partner_name=partner_name if booked else None,
            session_at=session_at(booking) if booked else None,
            answered_at=now,
        ),
    )


def origin_of(request: InterpreterRequested) -> str:
    return f"{ORIGIN_PREFIX}{request.case_id}"


def session_at(booking: Booking) -> datetime | None:
    """When the booking's first session starts (its sessions are in the clinic's time)."""
    details = booking.details
    if not isinstance(details, InterpreterDetails):
        return None
    first = details.sessions[0]
    return datetime.combine(first.date, first.start, tzinfo=CLINIC_TIME)
