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

from contracts.inquiries import PersonalDataErased
from contracts.registry import INQUIRY_ERASED
from services.inquiries import billing, billing_store, privacy_store, store
from services.inquiries.domain import TERMINAL
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import Conflict, NotFound
from services.runtime.messaging import dead_letters
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing

log = structlog.get_logger(__name__)

Reason = privacy_store.ErasureReason


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


def check_erasable(subject: privacy_store.ErasureSubject) -> None:
    if subject.erased_at is not None:
        raise Conflict(
            f"the personal data of inquiry {subject.id} was already erased at "
            f"{subject.erased_at.isoformat()}"
        )
    if subject.status not in TERMINAL:
        closed = ", ".join(sorted(TERMINAL))
        raise Conflict(
            f"inquiry {subject.id} is still open ({subject.status}); cancel it first: only a "
            f"closed case ({closed}) can be erased"
        )


async def erase(
    pool: Pool, erasing: Erasing, inquiry_id: uuid.UUID, *, by: str, now: datetime
) -> ErasureReceipt:
    """An admin's erasure; `by` (the admin) is kept on the timeline, for accountability."""
    async with transaction(pool) as conn:
        subject = await privacy_store.lock_for_erasure(conn, inquiry_id)
        if subject is None:
            raise NotFound(f"inquiry {inquiry_id} does not exist")
        check_erasable(subject)
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
        subject = await privacy_store.erasure_of(conn, inquiry_id)
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
) -> billing.BillingStub | None:
    """Inside the caller's transaction, with the inquiry's row locked and found erasable.
    Returns the billing stub kept, if the case had anything to account for."""
    case = await store.find_case(conn, inquiry_id)
    if case is None:  # pragma: no cover - the caller holds the row's lock
        raise RuntimeError("the inquiry vanished under its lock")
    stub = await billing.keep_stub(
        conn, erasing.keys, case, years=erasing.billing_retention_years, now=now
    )
    await privacy_store.wipe_personal_data(conn, inquiry_id, now)
    detail: dict[str, object] = {"reason": reason}
    if by is not None:
        detail["by"] = by
    await store.insert_timeline(conn, inquiry_id, "erased", detail, now)
    # The booking requests sent to logistics name the traveller, and so may a dead letter.
    await erasing.outbox.retract(conn, str(inquiry_id))
    await dead_letters.erase_mentioning(conn, [str(inquiry_id)])
    await erasing.outbox.emit(
        conn,
        INQUIRY_ERASED.subject(),
        PersonalDataErased(inquiry_id=str(inquiry_id), erased_at=now),
    )
    log.info("personal data erased", inquiry_id=str(inquiry_id), reason=reason)
    return stub
