"""Treatment offers: what a sent offer must satisfy, which version a patient or coordinator may
accept, and when an open offer expires (given `now`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import msgspec

from contracts.inquiries import InquiryOfferSent
from contracts.registry import INQUIRY_OFFER_SENT
from services.inquiries.domain.commands import OfferForm
from services.inquiries.domain.consent import require
from services.inquiries.domain.lifecycle import check_processing_allowed, check_transition, move
from services.inquiries.domain.model import (
    Announcement,
    Case,
    Change,
    OfferClosure,
    OfferState,
    TimelineEntry,
)
from services.runtime.core.errors import Conflict, FieldProblem, Invalid, NotFound

# Who the timeline names when an offer runs out.
EXPIRY = "offer expiry"


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    """An offer version as its decisions see it."""

    version: int
    state: OfferState
    valid_until: datetime


def is_due(offer: Offer, now: datetime) -> bool:
    """An open offer expires once its validity has passed."""
    return offer.state == "open" and offer.valid_until <= now


def offer_problems(offer: OfferForm, now: datetime) -> list[FieldProblem]:
    problems = []
    if offer.valid_until <= now:
        problems.append(FieldProblem(field="valid_until", message="must be in the future"))
    for i, programme in enumerate(offer.programmes):
        total = Decimal(programme.total)
        items = sum((Decimal(item.amount) for item in programme.items), Decimal("0.00"))
        if items != total:
            problems.append(
                FieldProblem(
                    field=f"programmes[{i}].total",
                    message=f"is {total} but the items add up to {items}",
                )
            )
        if Decimal(programme.advance) > total:
            problems.append(
                FieldProblem(field=f"programmes[{i}].advance", message="exceeds the total")
            )
    return problems


def send(
    case: Case,
    consents: Mapping[str, bool],
    offer: OfferForm,
    *,
    version: int,
    by: str,
    now: datetime,
) -> Change:
    """A new offer version: it supersedes the open one and the case waits for an answer. An
    offer is a clinic's answer to the patient's records, so it needs their consent to
    forwarding them to clinics."""
    check_processing_allowed(consents)
    check_transition(case.status, "offer_sent")
    require(consents, "offer")
    if problems := offer_problems(offer, now):
        raise Invalid(problems)
    superseded = Change(at=now, offers_closed=(OfferClosure(version=None, state="superseded"),))
    detail = {"offer_version": version, "valid_until": offer.valid_until.isoformat(), "by": by}
    sent = Change(
        at=now,
        timeline=(TimelineEntry(at=now, kind="offer_sent", detail=detail),),
        announcements=(
            Announcement(
                subject=INQUIRY_OFFER_SENT.subject(),
                event=InquiryOfferSent(
                    inquiry_id=str(case.id),
                    offer_version=version,
                    valid_until=offer.valid_until,
                    sent_at=now,
                ),
            ),
        ),
    )
    return superseded.then(move(case, "offer_sent", by=by, now=now)).then(sent)


def accept(
    case: Case,
    consents: Mapping[str, bool],
    offer: Offer | None,
    *,
    version: int,
    by: str,
    now: datetime,
) -> Change:
    """The patient or a coordinator accepts one offer version; a missing, superseded, withdrawn
    or expired one is refused."""
    check_processing_allowed(consents)
    if offer is None:
        raise NotFound(f"inquiry {case.id} has no offer version {version}")
    if is_due(offer, now):
        raise Conflict(f"offer version {version} expired at {offer.valid_until}")
    if offer.state != "open":
        raise Conflict(f"offer version {version} is {offer.state}, not open")
    accepted = Change(
        at=now,
        offers_closed=(OfferClosure(version=version, state="accepted", accepted_by=by),),
        timeline=(
            TimelineEntry(
                at=now, kind="offer_accepted", detail={"offer_version": version, "by": by}
            ),
        ),
    )
    return move(case, "accepted", by=by, now=now).then(accepted)


def expire(case: Case, offer: Offer, *, now: datetime) -> Change:
    """An open offer past its validity expires, and its case with it."""
    if not is_due(offer, now):
        raise Conflict(f"offer version {offer.version} is valid until {offer.valid_until}")
    closed = Change(at=now, offers_closed=(OfferClosure(version=offer.version, state="expired"),))
    expired = Change(
        at=now,
        timeline=(
            TimelineEntry(at=now, kind="offer_expired", detail={"offer_version": offer.version}),
        ),
    )
    return closed.then(move(case, "expired", by=EXPIRY, now=now)).then(expired)
