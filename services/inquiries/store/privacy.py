"""SQL of the patient-data side of inquiries (consents, erasure, retention's claims): one function
per statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from services.inquiries.domain.privacy import ErasureReason
from services.runtime.core.db import Connection

# Free text coordinators wrote about one inquiry: it can describe the patient and their health
# in words no field foresaw, so retention wipes it earlier than the rest (see retention).
FREE_TEXT_WIPES: tuple[str, ...] = (
    "UPDATE notes SET body = NULL WHERE inquiry_id = $1 AND body IS NOT NULL",
    # A coordinator's free-text reason for a step can describe the patient's health.
    "UPDATE timeline SET detail = detail - 'reason' WHERE inquiry_id = $1 AND detail ? 'reason'",
)

# Every place this schema keeps the personal data of one inquiry, each statement taking the
# inquiry id as $1. Erasure and retention both run exactly this list, so a table or column that
# comes to hold personal data (notes, payer, travel plan) is erased once it is added here.
PERSONAL_DATA_WIPES: tuple[str, ...] = (
    # The access token is replaced by a hash no token has: whoever holds it can no longer tie
    # the anonymous record to a person.
    """UPDATE inquiries SET personal = NULL, key_id = NULL,
                            access_token_hash = sha256(uuid_send(gen_random_uuid())),
                            reissued_token = NULL
       WHERE id = $1""",
    # Stored answers hold the access token and tie the submitting site's key to the case.
    "DELETE FROM idempotent_submissions WHERE inquiry_id = $1",
    # The offers (programmes name the patient's procedures) and the case records (payer,
    # travel plan, medication plan): sealed, but personal all the same.
    "UPDATE offers SET body = NULL WHERE inquiry_id = $1",
    "UPDATE case_records SET body = NULL WHERE inquiry_id = $1",
    # What partners reported for the trip (driver, meeting point, tracking number).
    "UPDATE booking_progress SET arrangement = NULL WHERE inquiry_id = $1",
    # Booking requests held for want of consent: they name the traveller.
    "UPDATE held_requests SET body = NULL WHERE inquiry_id = $1",
    # Coordinators' notes and free-text reasons.
    *FREE_TEXT_WIPES,
)


class ErasureSubject(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: str
    erased_at: datetime | None


class ErasureRecord(ErasureSubject, frozen=True, kw_only=True):
    reason: ErasureReason | None


class ClosedInquiry(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: str
    closed_at: datetime


async def lock_for_erasure(conn: Connection, inquiry_id: uuid.UUID) -> ErasureSubject | None:
    row = await conn.fetchrow(
        "SELECT id, status, erased_at FROM inquiries WHERE id = $1 FOR UPDATE", inquiry_id
    )
    return None if row is None else msgspec.convert(dict(row.items()), ErasureSubject)


async def erasure_of(conn: Connection, inquiry_id: uuid.UUID) -> ErasureRecord | None:
    """The case's erasure as the anonymous record and its timeline keep it."""
    row = await conn.fetchrow(
        """SELECT i.id, i.status, i.erased_at,
                  (SELECT t.detail ->> 'reason' FROM timeline t
                   WHERE t.inquiry_id = i.id AND t.kind = 'erased'
                   ORDER BY t.id DESC LIMIT 1) AS reason
           FROM inquiries i WHERE i.id = $1""",
        inquiry_id,
    )
    return None if row is None else msgspec.convert(dict(row.items()), ErasureRecord)


async def wipe_personal_data(conn: Connection, inquiry_id: uuid.UUID, now: datetime) -> None:
    for statement in PERSONAL_DATA_WIPES:
        await conn.execute(statement, inquiry_id)
    # A new version, so a coordinator's update prepared before the erasure fails its If-Match.
    await conn.execute(
        """UPDATE inquiries SET erased_at = $2, updated_at = $2, version = version + 1
           WHERE id = $1""",
        inquiry_id,
        now,
    )


async def claim_closed_before(
    conn: Connection, statuses: list[str], closed_before: datetime, limit: int
) -> list[ClosedInquiry]:
    """Closed cases still holding personal data, oldest first. A closed case changes no more,
    so its last update is when it closed. SKIP LOCKED: replicas never purge one twice."""
    rows = await conn.fetch(
        """SELECT id, status, updated_at AS closed_at FROM inquiries
           WHERE erased_at IS NULL AND status = ANY($1::text[]) AND updated_at < $2
           ORDER BY updated_at, id LIMIT $3 FOR UPDATE SKIP LOCKED""",
        statuses,
        closed_before,
        limit,
    )
    return [msgspec.convert(dict(r.items()), ClosedInquiry) for r in rows]


async def list_closed_before(
    conn: Connection, statuses: list[str], closed_before: datetime
) -> list[ClosedInquiry]:
    """What `claim_closed_before` would claim, without claiming: for a dry run."""
    rows = await conn.fetch(
        """SELECT id, status, updated_at AS closed_at FROM inquiries
           WHERE erased_at IS NULL AND status = ANY($1::text[]) AND updated_at < $2
           ORDER BY updated_at, id""",
        statuses,
        closed_before,
    )
    return [msgspec.convert(dict(r.items()), ClosedInquiry) for r in rows]


async def insert_consent(
    conn: Connection,
    *,
    inquiry_id: uuid.UUID,
    purpose: str,
    granted: bool,
    version: str,
    given_by: str,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO consents (inquiry_id, purpose, granted, version, given_by, at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        inquiry_id,
        purpose,
        granted,
        version,
        given_by,
        now,
    )


class ConsentRow(msgspec.Struct, frozen=True, kw_only=True):
    purpose: str
    granted: bool
    version: str
    given_by: str
    at: datetime


async def consents(conn: Connection, inquiry_id: uuid.UUID) -> list[ConsentRow]:
    """The whole consent log of a case, oldest first."""
    rows = await conn.fetch(
        """SELECT purpose, granted, version, given_by, at FROM consents
           WHERE inquiry_id = $1 ORDER BY id""",
        inquiry_id,
    )
    return [msgspec.convert(dict(r.items()), ConsentRow) for r in rows]


async def current_consents(conn: Connection, inquiry_id: uuid.UUID) -> dict[str, bool]:
    """Per purpose, whether the latest word of the patient is a grant."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (purpose) purpose, granted FROM consents
           WHERE inquiry_id = $1 ORDER BY purpose, id DESC""",
        inquiry_id,
    )
    return {r["purpose"]: r["granted"] for r in rows}


async def latest_consent(
    conn: Connection, inquiry_id: uuid.UUID, purpose: str
) -> ConsentRow | None:
    """The patient's latest word on one purpose: the record a disclosure relies on."""
    row = await conn.fetchrow(
        """SELECT purpose, granted, version, given_by, at FROM consents
           WHERE inquiry_id = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1""",
        inquiry_id,
        purpose,
    )
    return None if row is None else msgspec.convert(dict(row.items()), ConsentRow)


async def insert_held_request(
    conn: Connection,
    *,
    inquiry_id: uuid.UUID,
    step: str,
    purpose: str,
    held_at: datetime,
) -> int:
    """A held request's row; its sealed body follows (its aad names the row's id)."""
    held_id: int = await conn.fetchval(
        """INSERT INTO held_requests (inquiry_id, step, purpose, held_at)
           VALUES ($1, $2, $3, $4) RETURNING id""",
        inquiry_id,
        step,
        purpose,
        held_at,
    )
    return held_id


async def seal_held_request(conn: Connection, held_id: int, body: bytes) -> None:
    await conn.execute("UPDATE held_requests SET body = $2 WHERE id = $1", held_id, body)


class HeldRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    step: str
    purpose: str
    body: bytes | None
    held_at: datetime


async def waiting_requests(conn: Connection, inquiry_id: uuid.UUID) -> list[HeldRow]:
    """The requests still held back, oldest first."""
    rows = await conn.fetch(
        """SELECT id, step, purpose, body, held_at FROM held_requests
           WHERE inquiry_id = $1 AND released_at IS NULL ORDER BY id""",
        inquiry_id,
    )
    return [msgspec.convert(dict(r.items()), HeldRow) for r in rows]


async def release_requests(conn: Connection, ids: list[int], now: datetime) -> None:
    await conn.execute(
        "UPDATE held_requests SET released_at = $2 WHERE id = ANY($1::bigint[])", ids, now
    )
