"""What a case's timeline says when logistics answers its request for an interpreter by phone:
booked (the partner and the session's time), none available, or nothing booked and why. Pure:
given the answer and `now`."""

from __future__ import annotations

from contracts.logistics import InterpreterRequestAnswered
from services.support.domain.model import TimelineEntry

NOT_BOOKED_BECAUSE = {
    "no_inquiry": (
        "the case has no inquiry (a partner's case), so there is no patient's consent to book "
        "one on: call an interpreter yourself"
    ),
    "no_consent": (
        "the patient has not consented to sharing their bookings with partners: ask them, or "
        "call an interpreter yourself"
    ),
}


def answered(event: InterpreterRequestAnswered) -> TimelineEntry:
    match event.outcome:
        case "booked":
            partner = event.partner_name or event.partner_id or "a partner"
            when = (
                event.session_at.isoformat(timespec="minutes")
                if event.session_at
                else "a time to be agreed"
            )
            return TimelineEntry(
                at=event.answered_at,
                kind="interpreter_booked",
                detail=f"interpreter booked: {partner}, phone session at {when}",
            )
        case "unavailable":
            return TimelineEntry(
                at=event.answered_at,
                kind="interpreter_unavailable",
                detail=(
                    "no interpreter available: no interpreter partner took the phone session "
                    "(coordinators are alerted to dispatch it again)"
                ),
            )
        case "refused":
            why = NOT_BOOKED_BECAUSE.get(event.reason or "", "logistics refused the request")
            return TimelineEntry(
                at=event.answered_at,
                kind="interpreter_not_booked",
                detail=f"no interpreter booked: {why}",
            )
