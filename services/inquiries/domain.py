"""The case lifecycle as the trade runs it: which state may follow which. Pure."""

from __future__ import annotations

from typing import get_args

from contracts.inquiries import InquiryStatus
from services.runtime.errors import IllegalTransition

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
