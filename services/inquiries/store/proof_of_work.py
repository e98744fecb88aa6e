"""SQL of spent ALTCHA challenges: replay refused by the signature's key, a visitor's
submissions counted. One function per statement."""

from __future__ import annotations

from datetime import datetime

from services.runtime.core.db import Connection


async def lock_visitor(conn: Connection, visitor: bytes) -> None:
    """Serialise one visitor's submissions for the count and insert."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('proof-of-work:' || encode($1, 'hex'), 0))",
        visitor,
    )


async def count_spent_since(conn: Connection, visitor: bytes, since: datetime) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM spent_challenges WHERE visitor = $1 AND spent_at > $2",
        visitor,
        since,
    )
    return count


async def spend_challenge(
    conn: Connection, signature: str, visitor: bytes, now: datetime, expires_at: datetime
) -> bool:
    """Record the challenge as spent; False when it was spent before (a replay)."""
    status = await conn.execute(
        """INSERT INTO spent_challenges (signature, visitor, spent_at, expires_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT (signature) DO NOTHING""",
        signature,
        visitor,
        now,
        expires_at,
    )
    return status == "INSERT 0 1"


async def delete_spent_before(conn: Connection, now: datetime, counted_since: datetime) -> None:
    """Forget challenges that can neither be replayed (expired) nor count for a limit."""
    await conn.execute(
        "DELETE FROM spent_challenges WHERE expires_at < $1 AND spent_at < $2", now, counted_since
    )
