"""The case lifecycle as the trade runs it: which state may follow which. Pure."""

from __future__ import annotations

from datetime import date
from typing import get_args

from contracts.inquiries import InquiryStatus
from services.runtime.errors import FieldProblem, IllegalTransition

STATUSES: tuple[InquiryStatus, ...] = get_args(InquiryStatus)

TRANSITIONS: dict[InquiryStatus, tuple[InquiryStatus, ...]] = {
    "submitted": ("in_review", "declined", "cancelled"),
    "in_review": ("records_requested", "offer_sent", "declined", "cancelled"),
    "records_requested": ("in_review", "declined", "cancelled"),
    # A new offer version supersedes the last: offer_sent -> offer_sent.
    "offer_sent": ("offer_sent", "accepted", "in_review", "declined", "cancelled", "expired"),
    "accepted": ("confirmed", "cancelled"),
    "confirmed": ("in_treatment", "cancelled"),
    "in_treatment": ("discharged",),
    "discharged": ("completed",),
    # An expired offer can be reviewed again and a fresh one sent.
    "expired": ("in_review", "cancelled"),
    "completed": (),
    "declined": (),
    "cancelled": (),
}
TERMINAL: frozenset[InquiryStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


def check_transition(current: InquiryStatus, target: InquiryStatus) -> None:
    """Raise IllegalTransition naming the allowed next states if `target` may not follow."""
    allowed = TRANSITIONS[current]
    if target not in allowed:
        detail = (
            f"an inquiry that is {current} cannot become {target}"
            if allowed
            else f"an inquiry that is {current} is closed"
        )
        raise IllegalTransition(detail, allowed=allowed)


def submission_problems(
    *,
    consent_given: bool,
    date_of_birth: date,
    preferred: tuple[date, date] | None,
    services: tuple[str, ...],
    condition_known: bool,
    today: date,
) -> list[FieldProblem]:
    """Every rule a well-formed submission can still break, at once."""
    problems = []
    if not consent_given:
        problems.append(
            FieldProblem(
                field="consent.health_data_processing",
                message="consent to process health data is required to arrange treatment",
            )
        )
    if date_of_birth >= today:
        problems.append(FieldProblem(field="patient.date_of_birth", message="must be in the past"))
    if preferred is not None:
        start, end = preferred
        if end < start:
            problems.append(FieldProblem(field="preferred_dates.to", message="is before from"))
        if start < today:
            problems.append(FieldProblem(field="preferred_dates.from", message="is in the past"))
    if len(set(services)) != len(services):
        problems.append(FieldProblem(field="services", message="a service is listed twice"))
    if not condition_known:
        problems.append(
            FieldProblem(field="condition_slug", message="no published condition has this slug")
        )
    return problems
