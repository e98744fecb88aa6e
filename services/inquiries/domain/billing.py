"""The pseudonymous billing stub an erasure keeps (GDPR Art. 17(3)(b): a legal obligation).

German commercial and tax law make a business keep its books, invoices and the records behind
them for the accounting period: 10 years for books and annual accounts (HGB §257(1) no. 1 and
(4), AO §147(1) no. 1 and (3)), counted from the end of the calendar year of the last entry
(HGB §257(5), AO §147(4)). Invoices themselves live in the accounting system; what Carebridge
keeps is the link from a case to them: the case id, when it ran, what was offered, paid and
booked, and the amounts. No name, contact, health data, payer or free text: the case id is a
random UUID that, once the case is erased, points to no one here. The stub is kept only for a
case that has something to account for (an accepted offer, a payment or a booking)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal, assert_never

import msgspec

from services.inquiries.domain.commands import Advance, Confirmation, Guarantee
from services.inquiries.domain.views import OfferView


class ProgrammeAmounts(msgspec.Struct, frozen=True, kw_only=True):
    total: str
    advance: str


class OfferAmounts(msgspec.Struct, frozen=True, kw_only=True):
    """The accepted cost estimate, without what it was for (procedures describe the patient)."""

    version: int
    currency: str
    programmes: tuple[ProgrammeAmounts, ...]


class PaymentStub(msgspec.Struct, frozen=True, kw_only=True):
    """The advance paid or guarantee given, without payer or bank reference."""

    kind: Literal["advance", "guarantee"]
    amount: str
    on: date


class BookingLine(msgspec.Struct, frozen=True, kw_only=True):
    """A booking logistics made for the case, as its newest event told: no traveller in it."""

    booking_id: str
    kind: str
    status: str
    partner_name: str | None


class BillingStub(msgspec.Struct, frozen=True, kw_only=True):
    inquiry_id: uuid.UUID
    closed_status: str
    submitted_at: datetime
    closed_at: datetime
    erased_at: datetime
    services: tuple[str, ...]
    accepted_offer: OfferAmounts | None
    payment: PaymentStub | None
    bookings: tuple[BookingLine, ...]
    retain_until: date


def retain_until(erased_at: datetime, years: int) -> date:
    """The last day of the accounting period: `years` after the end of the erasure's year,
    which is never earlier than the case's last business."""
    return date(erased_at.year + years, 12, 31)


def stub(
    *,
    inquiry_id: uuid.UUID,
    closed_status: str,
    submitted_at: datetime,
    closed_at: datetime,
    services: Sequence[str],
    offers: Sequence[OfferView],
    confirmation: Confirmation | None,
    bookings: Sequence[BookingLine],
    years: int,
    now: datetime,
) -> BillingStub | None:
    """What the books need of an erased case, from what it held; None when there is nothing to
    account for (no accepted offer, no payment, no booking)."""
    accepted = [o for o in offers if o.state == "accepted"]
    offer = (
        OfferAmounts(
            version=accepted[-1].version,
            currency=accepted[-1].currency,
            programmes=tuple(
                ProgrammeAmounts(total=p.total, advance=p.advance) for p in accepted[-1].programmes
            ),
        )
        if accepted
        else None
    )
    payment = None
    if confirmation is not None:
        match confirmation.payment:
            case Advance(amount=amount, paid_on=on):
                payment = PaymentStub(kind="advance", amount=amount, on=on)
            case Guarantee(amount=amount, issued_on=on):
                payment = PaymentStub(kind="guarantee", amount=amount, on=on)
            case _:
                assert_never(confirmation.payment)
    if offer is None and payment is None and not bookings:
        return None
    return BillingStub(
        inquiry_id=inquiry_id,
        closed_status=closed_status,
        submitted_at=submitted_at,
        closed_at=closed_at,
        erased_at=now,
        services=tuple(services),
        accepted_offer=offer,
        payment=payment,
        bookings=tuple(bookings),
        retain_until=retain_until(now, years),
    )
