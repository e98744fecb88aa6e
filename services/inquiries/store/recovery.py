"""SQL of token recovery: the requests the rate limit counts, the token a match replaces, and
the sealed copy of the new one waiting for notifications. One function per statement."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from services.runtime.core.db import Connection


class ReissuedToken(msgspec.Struct, frozen=True, kw_only=True):
    reissue_id: uuid.UUID | None
    reissued_at: datetime | None
    sealed: bytes | None


async def lock_requests(conn: Connection, inquiry_id: uuid.UUID) -> None:
    """Serialise the requests of one inquiry id (existing or not) for the count and insert."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('token-recovery:' || $1::uuid::text, 0))",
        inquiry_id,
    )


async def count_requests_since(conn: Connection, inquiry_id: uuid.UUID, since: datetime) -> int:
    count: int = await conn.fetchval(
        """SELECT count(*) FROM token_recovery_requests
           WHERE inquiry_id = $1 AND requested_at > $2""",
        inquiry_id,
        since,
    )
    return count


async def insert_request(conn: Connection, inquiry_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO token_recovery_requests (inquiry_id, requested_at) VALUES ($1, $2)",
        inquiry_id,
        now,
    )


async def delete_requests_before(conn: Connection, before: datetime) -> None:
    """Requests older than the window count for nothing any more."""
    await conn.execute("DELETE FROM token_recovery_requests WHERE requested_at <= $1", before)


async def replace_token(
    conn: Connection,
    inquiry_id: uuid.UUID,
    *,
    token_hash: bytes,
    sealed: bytes,
    reissue_id: uuid.UUID,
    now: datetime,
) -> None:
    await conn.execute(
        """UPDATE inquiries SET access_token_hash = $2, reissued_token = $3, reissue_id = $4,
                                reissued_at = $5
           WHERE id = $1""",
        inquiry_id,
        token_hash,
        sealed,
        reissue_id,
        now,
    )


async def find_reissued(conn: Connection, inquiry_id: uuid.UUID) -> ReissuedToken | None:
    row = await conn.fetchrow(
        """SELECT reissue_id, reissued_at, reissued_token AS sealed FROM inquiries
           WHERE id = $1""",
        inquiry_id,
    )
    return None if row is None else msgspec.convert(dict(row.items()), ReissuedToken)


async def forget_reissued(conn: Connection, inquiry_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE inquiries SET reissued_token = NULL WHERE id = $1 AND reissued_token IS NOT NULL",
        inquiry_id,
    )
