"""SQL of the consent records booking requests arrive with: one function per statement,
connection first."""

from __future__ import annotations

import msgspec

from contracts.inquiries import ConsentBasis
from services.runtime.core.db import Connection


async def remember_consent(conn: Connection, inquiry_id: str, basis: ConsentBasis) -> None:
    """The grant the inquiry's booking requests rely on; a later grant replaces an earlier."""
    await conn.execute(
        """INSERT INTO sharing_consents (inquiry_id, purpose, notice_version, given_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (inquiry_id) DO UPDATE
           SET purpose = EXCLUDED.purpose, notice_version = EXCLUDED.notice_version,
               given_at = EXCLUDED.given_at
           WHERE sharing_consents.given_at <= EXCLUDED.given_at""",
        inquiry_id,
        basis.purpose,
        basis.notice_version,
        basis.given_at,
    )


async def consent_of(conn: Connection, inquiry_id: str | None) -> ConsentBasis | None:
    if inquiry_id is None:
        return None
    row = await conn.fetchrow(
        """SELECT purpose, notice_version, given_at FROM sharing_consents
           WHERE inquiry_id = $1""",
        inquiry_id,
    )
    return None if row is None else msgspec.convert(dict(row.items()), ConsentBasis)
