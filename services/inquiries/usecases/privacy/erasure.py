"""Erasure of a patient's personal data (GDPR Art. 17): the case stays as an anonymous record
(id, status, condition, dates, erased_at) and every other service is told to wipe its copies.

Only a closed case can be erased: an open one is still being worked on, and erasing under a
coordinator's hands would leave bookings and offers pointing at nobody. The operator cancels it
first (the lifecycle decides how), then erases. Erasing twice is a 409 naming when it happened,
so an operator can tell a repeated click from a second patient's request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import msgspec
import structlog

from services.inquiries.domain import privacy
from services.inquiries.domain.billing import BillingStub
from services.inquiries.store import billing as billing_store
from services.inquiries.store import cases
from services.inquiries.store import privacy as store
from services.inquiries.usecases import billing
from services.inquiries.usecases.cases import announce, record
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import NotFound
from services.runtime.messaging import dead_letters
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing

log = structlog.get_logger(__name__)

Reason = privacy.ErasureReason


@dataclass(frozen=True)
class Erasing:
    """What an erasure needs besides the case: the outbox to announce it, the keys to read the
    amounts for the billing stub, and how many years the stub is kept."""

    outbox: Outbox
    keys: KeyRing
    billing_retention_years: int


class ErasureReceipt(msgspec.Struct, frozen=True, kw_only=True):
    """Proof of an erasure, kept with the anonymous record: when, why, and until when the
    billing stub stays (null when the case had nothing to account for)."""

    id: uuid.UUID
    status: str
    erased_at: datetime
    reason: Reason | None = None
    billing_stub_until: date | None = None


async def erase(
    pool: Pool, erasing: Erasing, inquiry_id: uuid.UUID, *, by: str, now: datetime
) -> ErasureReceipt:
    """An admin's erasure; `by` (the admin) is kept on the timeline, for accountability."""
    async with transaction(pool) as conn:
        subject = await store.lock_for_erasure(conn, inquiry_id)
        if subject is None:
            raise NotFound(f"inquiry {inquiry_id} does not exist")
        privacy.check_erasable(subject.id, subject.status, subject.erased_at)
        stub = await erase_locked(conn, erasing, inquiry_id, reason="request", by=by, now=now)
    return ErasureReceipt(
        id=inquiry_id,
        status=subject.status,
        erased_at=now,
        reason="request",
        billing_stub_until=stub.retain_until if stub else None,
    )


async def receipt(pool: Pool, inquiry_id: uuid.UUID) -> ErasureReceipt:
    """The receipt of an erasure that happened; 404 for a case not erased (or unknown)."""
    async with pool.acquire() as conn:
        subject = await store.erasure_of(conn, inquiry_id)
        until = await billing_store.kept_until(conn, inquiry_id)
    if subject is None or subject.erased_at is None:
        raise NotFound(f"the personal data of inquiry {inquiry_id} was not erased")
    return ErasureReceipt(
        id=inquiry_id,
        status=subject.status,
        erased_at=subject.erased_at,
        reason=subject.reason,
        billing_stub_until=until,
    )


async def erase_locked(
    conn: Connection,
    erasing: Erasing,
    inquiry_id: uuid.UUID,
    *,
    reason: Reason,
    by: str | None = None,
    now: datetime,
) -> BillingStub | None:
    """Inside the caller's transaction, with the inquiry's row locked and found erasable.
    Returns the billing stub kept, if the case had anything to account for."""
    case = await cases.find_case(conn, inquiry_id)
    if case is None:  # pragma: no cover - the caller holds the row's lock
        raise RuntimeError("the inquiry vanished under its lock")
    stub = await billing.keep_stub(
        conn, erasing.keys, case, years=erasing.billing_retention_years, now=now
    )
    await store.wipe_personal_data(conn, inquiry_id, now)
    change = privacy.erase(inquiry_id, reason=reason, by=by, now=now)
    await record(conn, inquiry_id, change)
    # The booking requests sent to logistics name the traveller, and so may a dead letter:
    # both go before the erasure is announced.
    await erasing.outbox.retract(conn, str(inquiry_id))
    await dead_letters.erase_mentioning(conn, [str(inquiry_id)])
    await announce(conn, erasing.outbox, inquiry_id, change)
    log.info("personal data erased", inquiry_id=str(inquiry_id), reason=reason)
    return stub
