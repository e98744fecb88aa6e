"""Erasure of a patient's personal data (GDPR Art. 17): the case stays as an anonymous record
(id, status, condition, dates, erased_at) and every other service is told to wipe its copies.

Only a closed case can be erased: an open one is still being worked on, and erasing under a
coordinator's hands would leave bookings and offers pointing at nobody. The operator cancels it
first (the lifecycle decides how), then erases. Erasing twice is a 409 naming when it happened,
so an operator can tell a repeated click from a second patient's request."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec
import structlog

from contracts.inquiries import PersonalDataErased
from contracts.registry import INQUIRY_ERASED
from services.inquiries import privacy_store, store
from services.inquiries.domain import TERMINAL
from services.runtime import dead_letters
from services.runtime.db import Connection, Pool, transaction
from services.runtime.errors import Conflict, NotFound
from services.runtime.outbox import Outbox

log = structlog.get_logger(__name__)

# Why the data went: a person asked (through an admin), or the retention period ran out.
Reason = Literal["request", "retention"]


class ErasureReceipt(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: str
    erased_at: datetime


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
    pool: Pool, outbox: Outbox, inquiry_id: uuid.UUID, *, by: str, now: datetime
) -> ErasureReceipt:
    """An admin's erasure; `by` (the admin) is kept on the timeline, for accountability."""
    async with transaction(pool) as conn:
        subject = await privacy_store.lock_for_erasure(conn, inquiry_id)
        if subject is None:
            raise NotFound(f"inquiry {inquiry_id} does not exist")
        check_erasable(subject)
        await erase_locked(conn, outbox, inquiry_id, reason="request", by=by, now=now)
    return ErasureReceipt(id=inquiry_id, status=subject.status, erased_at=now)


async def erase_locked(
    conn: Connection,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    *,
    reason: Reason,
    by: str | None = None,
    now: datetime,
) -> None:
    """Inside the caller's transaction, with the inquiry's row locked and found erasable."""
    await privacy_store.wipe_personal_data(conn, inquiry_id, now)
    detail: dict[str, object] = {"reason": reason}
    if by is not None:
        detail["by"] = by
    await store.insert_timeline(conn, inquiry_id, "erased", detail, now)
    # The booking requests sent to logistics name the traveller, and so may a dead letter.
    await outbox.retract(conn, str(inquiry_id))
    await dead_letters.erase_mentioning(conn, [str(inquiry_id)])
    await outbox.emit(
        conn,
        INQUIRY_ERASED.subject(),
        PersonalDataErased(inquiry_id=str(inquiry_id), erased_at=now),
    )
    log.info("personal data erased", inquiry_id=str(inquiry_id), reason=reason)
