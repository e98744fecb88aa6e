"""The case lifecycle as the trade runs it: which state may follow which, the checks every step
makes, and the one way a case changes state (`move`), which each step's decision builds on."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import get_args

import msgspec

from contracts.envelope import Event
from contracts.inquiries import InquiryCancelled, InquiryStatus, InquiryStatusChanged
from contracts.registry import INQUIRY_CANCELLED, INQUIRY_STATUS_CHANGED
from services.inquiries.domain.model import (
    Announcement,
    Case,
    Change,
    OfferClosure,
    PersonalData,
    TimelineEntry,
)
from services.runtime.core.errors import Conflict, IllegalTransition, Invalid, PreconditionFailed

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


# Steps that carry what they need in a request of their own, and the door each one has.
DEDICATED_STEPS: dict[InquiryStatus, str] = {
    "offer_sent": "POST /v1/coordinator/inquiries/{id}/offers",
    "accepted": "POST /v1/coordinator/inquiries/{id}/offers/{version}/accept",
    "confirmed": "POST /v1/coordinator/inquiries/{id}/confirmation",
    "discharged": "POST /v1/coordinator/inquiries/{id}/discharge",
    "expired": "the offer expiry job, when an offer's valid_until passes",
}


def check_plain_transition(current: InquiryStatus, target: InquiryStatus) -> None:
    """A transition without a payload: legal, and not one of the steps that need their own."""
    check_transition(current, target)
    if target in DEDICATED_STEPS:
        raise Invalid.single("to", f"{target} is reached through {DEDICATED_STEPS[target]}")


def check_processing_allowed(consents: Mapping[str, bool]) -> None:
    """Once the patient withdrew consent to process health data, the case moves no further."""
    if consents.get("health_data_processing") is False:
        raise Conflict(
            "the patient withdrew consent to process their health data; the case cannot move on"
        )


def check_version(case: Case, expected_version: int | None) -> None:
    """The caller's change must be based on the case as it is now (If-Match)."""
    if expected_version is not None and expected_version != case.version:
        raise PreconditionFailed(
            f"inquiry {case.id} is at version {case.version}, not {expected_version}; "
            "reload it and apply your change again"
        )


def require_personal(inquiry_id: uuid.UUID, personal: PersonalData | None) -> PersonalData:
    if personal is None:
        raise Conflict(f"the personal data of inquiry {inquiry_id} was erased")
    return personal


# Leaving offer_sent any other way than these withdraws the offer that was open.
_KEEP_OFFER: frozenset[InquiryStatus] = frozenset({"offer_sent", "accepted", "expired"})


def move(
    case: Case, to: InquiryStatus, *, by: str, now: datetime, reason: str | None = None
) -> Change:
    """Move a case to `to` (IllegalTransition naming the allowed states if it may not), with
    its timeline entry and its announcement."""
    current = case.status
    check_transition(current, to)
    moved = msgspec.structs.replace(case, status=to, version=case.version + 1)
    detail: dict[str, object] = {"from": current, "to": to, "by": by}
    if reason:
        detail["reason"] = reason
    announcements = [
        _announce(
            INQUIRY_STATUS_CHANGED.subject(),
            InquiryStatusChanged(
                inquiry_id=str(case.id),
                from_status=current,
                to_status=to,
                version=moved.version,
                changed_at=now,
            ),
        )
    ]
    if to == "cancelled":
        announcements.append(
            _announce(
                INQUIRY_CANCELLED.subject(),
                InquiryCancelled(
                    inquiry_id=str(case.id),
                    reason=reason or f"cancelled by {by}",
                    cancelled_at=now,
                ),
                # The reason is the coordinator's free text and may name the patient: erasing
                # the case deletes it from the stream.
                erasure_key=str(case.id),
            )
        )
    withdrawn = current == "offer_sent" and to not in _KEEP_OFFER
    return Change(
        at=now,
        case=moved,
        offers_closed=(OfferClosure(version=None, state="withdrawn"),) if withdrawn else (),
        timeline=(TimelineEntry(at=now, kind="status_changed", detail=detail),),
        announcements=tuple(announcements),
    )


def _announce(subject: str, event: Event, erasure_key: str | None = None) -> Announcement:
    return Announcement(subject=subject, event=event, erasure_key=erasure_key)
