"""The one way a case changes: lock it, compare the caller's version, check the rules, bump the
version, write the timeline and announce the change through the outbox, all in the caller's
transaction. Every command of the workflow (HTTP, patient, scheduler) goes through here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

import msgspec

from contracts.inquiries import InquiryCancelled, InquiryStatus, InquiryStatusChanged
from contracts.registry import INQUIRY_CANCELLED, INQUIRY_STATUS_CHANGED
from services.inquiries import store
from services.inquiries.domain import check_transition
from services.runtime.core.db import Connection
from services.runtime.core.errors import Conflict, NotFound, PreconditionFailed
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing, from_column

PATIENT = "patient"


class PersonalData(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about the patient and their health: stored only encrypted."""

    patient: dict[str, object]
    description: str
    diagnoses: tuple[str, ...]
    preferred_dates: dict[str, object] | None


# Leaving offer_sent any other way than these withdraws the offer that was open.
_KEEP_OFFER: frozenset[InquiryStatus] = frozenset({"offer_sent", "accepted", "expired"})


def aad(inquiry_id: uuid.UUID, field: str) -> bytes:
    """Associated data binding a ciphertext to its case and field (and row, inside `field`)."""
    return f"inquiry:{inquiry_id}:{field}".encode()


def status_of(row: store.CaseRow) -> InquiryStatus:
    return cast(InquiryStatus, row.status)  # the table only ever holds lifecycle states


async def lock(
    conn: Connection, inquiry_id: uuid.UUID, expected_version: int | None
) -> store.CaseRow:
    row = await store.lock_case(conn, inquiry_id)
    if row is None:
        raise NotFound(f"no inquiry {inquiry_id}")
    if expected_version is not None and expected_version != row.version:
        raise PreconditionFailed(
            f"inquiry {inquiry_id} is at version {row.version}, not {expected_version}; "
            "reload it and apply your change again"
        )
    return row


async def lock_for_patient(
    conn: Connection, inquiry_id: uuid.UUID, token_hash: bytes
) -> store.CaseRow:
    row = await store.lock_case_by_token(conn, inquiry_id, token_hash)
    if row is None:
        # The same answer whether the inquiry exists or not: nothing to enumerate.
        raise NotFound(f"no inquiry {inquiry_id} for this access token")
    return row


def personal_data(keys: KeyRing, row: store.CaseRow) -> PersonalData:
    if row.personal is None:
        raise Conflict(f"the personal data of inquiry {row.id} was erased")
    return keys.decrypt_json(
        from_column(row.personal), aad=aad(row.id, "personal"), type=PersonalData
    )


async def move(
    conn: Connection,
    outbox: Outbox,
    row: store.CaseRow,
    to: InquiryStatus,
    *,
    by: str,
    now: datetime,
    reason: str | None = None,
) -> store.CaseRow:
    """Move a locked case to `to` (409 naming the allowed states if it may not) and announce it."""
    current = status_of(row)
    check_transition(current, to)
    if current == "offer_sent" and to not in _KEEP_OFFER:
        await store.close_open_offers(conn, row.id, "withdrawn", now)
    moved = await store.set_status(conn, row.id, to, now)
    detail: dict[str, Any] = {"from": current, "to": to, "by": by}
    if reason:
        detail["reason"] = reason
    await store.insert_timeline(conn, row.id, "status_changed", detail, now)
    await outbox.emit(
        conn,
        INQUIRY_STATUS_CHANGED.subject(),
        InquiryStatusChanged(
            inquiry_id=str(row.id),
            from_status=current,
            to_status=to,
            version=moved.version,
            changed_at=now,
        ),
    )
    if to == "cancelled":
        await outbox.emit(
            conn,
            INQUIRY_CANCELLED.subject(),
            InquiryCancelled(
                inquiry_id=str(row.id),
                reason=reason or f"cancelled by {by}",
                cancelled_at=now,
            ),
            # The reason is the coordinator's free text and may name the patient: erasing the
            # case deletes it from the stream.
            erasure_key=str(row.id),
        )
    return moved
