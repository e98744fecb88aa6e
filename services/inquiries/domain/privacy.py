"""The patient's data rights: consent per purpose (withdrawing one stops that processing at
once) and erasure (only of a closed case, and only once)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from contracts.inquiries import (
    BookingsReleased,
    ConsentBasis,
    ConsentWithdrawn,
    PersonalDataErased,
)
from contracts.registry import INQUIRY_BOOKINGS_RELEASED, INQUIRY_CONSENT_WITHDRAWN, INQUIRY_ERASED
from services.inquiries.domain.casework import LOGISTICS
from services.inquiries.domain.commands import ConsentForm
from services.inquiries.domain.consent import HeldBookings, check_grant
from services.inquiries.domain.lifecycle import TERMINAL, TRANSITIONS, move
from services.inquiries.domain.model import PATIENT, Announcement, Case, Change, TimelineEntry
from services.runtime.core.errors import Conflict

# Why the data went: a person asked (through an admin), or the retention period ran out.
ErasureReason = Literal["request", "retention"]
WITHDRAWN_PROCESSING = "the patient withdrew consent to process their health data"


def record_consent(
    case: Case,
    form: ConsentForm,
    *,
    held: tuple[HeldBookings, ...] = (),
    now: datetime,
) -> Change:
    """The patient grants or withdraws one purpose. A grant is given against a published notice
    that asks for it; a withdrawal needs none. Without consent to process health data an open
    case is cancelled and moves no further; each step refuses without its own purpose (see
    domain.consent), and granting partner sharing sends the booking requests it held back."""
    check_grant(form.purpose, form.granted, form.version)
    kind = "consent_granted" if form.granted else "consent_withdrawn"
    recorded = Change(
        at=now,
        timeline=(
            TimelineEntry(
                at=now, kind=kind, detail={"purpose": form.purpose, "version": form.version}
            ),
        ),
        announcements=()
        if form.granted
        else (
            Announcement(
                subject=INQUIRY_CONSENT_WITHDRAWN.subject(),
                event=ConsentWithdrawn(
                    inquiry_id=str(case.id), purpose=form.purpose, withdrawn_at=now
                ),
            ),
        ),
    )
    if form.granted and form.purpose == "partner_sharing" and case.status not in TERMINAL:
        grant = ConsentBasis(purpose=form.purpose, notice_version=form.version, given_at=now)
        return recorded.then(_release(case, held, grant, now))
    if (
        not form.granted
        and form.purpose == "health_data_processing"
        and "cancelled" in TRANSITIONS[case.status]
    ):
        return recorded.then(
            move(case, "cancelled", by=PATIENT, now=now, reason=WITHDRAWN_PROCESSING)
        )
    return recorded


def _release(
    case: Case, held: tuple[HeldBookings, ...], grant: ConsentBasis, now: datetime
) -> Change:
    """The booking requests held for want of partner sharing, sent now it is given; each
    discloses the traveller to logistics on this consent."""
    waiting = tuple(h for h in held if h.id is not None and h.bookings)
    return Change(
        at=now,
        released=tuple(h.id for h in waiting if h.id is not None),
        timeline=tuple(
            TimelineEntry(
                at=now,
                kind="bookings_released",
                detail={"step": h.step, "bookings": [b.__struct_config__.tag for b in h.bookings]},
            )
            for h in waiting
        ),
        announcements=tuple(
            Announcement(
                subject=INQUIRY_BOOKINGS_RELEASED.subject(),
                event=BookingsReleased(
                    inquiry_id=str(case.id),
                    step=h.step,
                    bookings=h.bookings,
                    released_at=now,
                    sharing_consent=grant,
                ),
                erasure_key=str(case.id),
                disclosed_to=LOGISTICS,
                relies_on="partner_sharing",
            )
            for h in waiting
        ),
    )


def check_erasable(inquiry_id: uuid.UUID, status: str, erased_at: datetime | None) -> None:
    if erased_at is not None:
        raise Conflict(
            f"the personal data of inquiry {inquiry_id} was already erased at "
            f"{erased_at.isoformat()}"
        )
    if status not in TERMINAL:
        closed = ", ".join(sorted(TERMINAL))
        raise Conflict(
            f"inquiry {inquiry_id} is still open ({status}); cancel it first: only a "
            f"closed case ({closed}) can be erased"
        )


def erase(inquiry_id: uuid.UUID, *, reason: ErasureReason, by: str | None, now: datetime) -> Change:
    """The erasure's timeline entry (who asked, for accountability) and its announcement, so
    every service wipes its copies."""
    detail: dict[str, object] = {"reason": reason}
    if by is not None:
        detail["by"] = by
    return Change(
        at=now,
        timeline=(TimelineEntry(at=now, kind="erased", detail=detail),),
        announcements=(
            Announcement(
                subject=INQUIRY_ERASED.subject(),
                event=PersonalDataErased(inquiry_id=str(inquiry_id), erased_at=now),
            ),
        ),
    )
