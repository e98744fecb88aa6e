"""SQL of the partners' webhook credentials: one function per statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.runtime.core.db import Connection


async def insert_credentials(
    conn: Connection,
    *,
    id: uuid.UUID,
    partner_id: str,
    token_hash: bytes,
    sealed_secret: bytes,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO partner_credentials (id, partner_id, token_hash, signing_secret, created_at)
           VALUES ($1, $2, $3, $4, $5)""",
        id,
        partner_id,
        token_hash,
        sealed_secret,
        now,
    )


async def expire_current(conn: Connection, partner_id: str, at: datetime) -> None:
    """The credentials in use end at `at` (the overlap of a rotation)."""
    await conn.execute(
        """UPDATE partner_credentials SET expires_at = $2
           WHERE partner_id = $1 AND (expires_at IS NULL OR expires_at > $2)""",
        partner_id,
        at,
    )


async def valid_secrets(
    conn: Connection, partner_id: str, now: datetime
) -> list[tuple[uuid.UUID, bytes]]:
    """(id, sealed secret) of the partner's credentials still valid, newest first."""
    rows = await conn.fetch(
        """SELECT id, signing_secret FROM partner_credentials
           WHERE partner_id = $1 AND (expires_at IS NULL OR expires_at > $2)
           ORDER BY created_at DESC, id""",
        partner_id,
        now,
    )
    return [(r["id"], r["signing_secret"]) for r in rows]


async def partner_of_token(conn: Connection, token_hash: bytes, now: datetime) -> str | None:
    """The partner of a valid token, while it is on the webhook channel (one moved back to NATS
    answers there, on its own subject)."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        """SELECT c.partner_id FROM partner_credentials c JOIN partners p ON p.id = c.partner_id
           WHERE c.token_hash = $1 AND (c.expires_at IS NULL OR c.expires_at > $2)
             AND p.channel = 'webhook'""",
        token_hash,
        now,
    )
