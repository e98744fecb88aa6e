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
from datetime import date, datetime
from typing import Literal, assert_never

import msgspec

from services.inquiries import billing_store, store
from services.inquiries.casework import confirmation_of
from services.inquiries.forms import Advance, Guarantee
from services.inquiries.offers import offer_views
from services.runtime.core.db import Connection
from services.runtime.privacy.crypto import KeyRing


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


class BillingStub(msgspec.Struct, frozen=True, kw_only=True):
    inquiry_id: uuid.UUID
    closed_status: str
    submitted_at: datetime
    closed_at: datetime
    erased_at: datetime
    services: tuple[str, ...]
    accepted_offer: OfferAmounts | None
    payment: PaymentStub | None
    bookings: tuple[billing_store.BookingLine, ...]
    retain_until: date


def retain_until(erased_at: datetime, years: int) -> date:
    """The last day of the accounting period: `years` after the end of the erasure's year,
    which is never earlier than the case's last business."""
    return date(erased_at.year + years, 12, 31)


async def keep_stub(
    conn: Connection,
    keys: KeyRing,
    case: store.CaseRow,
    *,
    years: int,
    now: datetime,
) -> BillingStub | None:
    """Inside the erasure's transaction, before the wipes: read what the books need from the
    sealed records and keep it as a stub. None when there is nothing to account for."""
    accepted = [o for o in await offer_views(conn, keys, case.id) if o.state == "accepted"]
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
    confirmation = await confirmation_of(conn, keys, case.id)
    payment = None
    if confirmation is not None:
        match confirmation.payment:
            case Advance(amount=amount, paid_on=on):
                payment = PaymentStub(kind="advance", amount=amount, on=on)
            case Guarantee(amount=amount, issued_on=on):
                payment = PaymentStub(kind="guarantee", amount=amount, on=on)
            case _:
                assert_never(confirmation.payment)
    bookings = tuple(await billing_store.booking_lines(conn, case.id))
    if offer is None and payment is None and not bookings:
        return None
    stub = BillingStub(
        inquiry_id=case.id,
        closed_status=case.status,
        submitted_at=case.submitted_at,
        closed_at=case.updated_at,
        erased_at=now,
        services=tuple(case.services),
        accepted_offer=offer,
        payment=payment,
        bookings=bookings,
        retain_until=retain_until(now, years),
    )
    await billing_store.insert_stub(conn, case.id, msgspec.json.encode(stub), stub.retain_until)
    return stub
