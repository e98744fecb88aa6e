"""SQL of the consent records booking requests arrive with: one function per statement,
connection first."""

from __future__ import annotations

from datetime import datetime

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
               given_at = EXCLUDED.given_at,
               -- A withdrawal later than this grant still stands.
               withdrawn_at = CASE WHEN sharing_consents.withdrawn_at > EXCLUDED.given_at
                                   THEN sharing_consents.withdrawn_at END
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


async def withdraw_consent(conn: Connection, inquiry_id: str, at: datetime) -> None:
    """The patient withdrew the grant (one given before `at`); a later grant is left alone."""
    await conn.execute(
        """UPDATE sharing_consents SET withdrawn_at = $2
           WHERE inquiry_id = $1 AND given_at <= $2""",
        inquiry_id,
        at,
    )


async def consent_in_force(conn: Connection, inquiry_id: str | None) -> ConsentBasis | None:
    """The grant, unless the patient withdrew it since."""
    if inquiry_id is None:
        return None
    row = await conn.fetchrow(
        """SELECT purpose, notice_version, given_at FROM sharing_consents
           WHERE inquiry_id = $1 AND withdrawn_at IS NULL""",
        inquiry_id,
    )
    return None if row is None else msgspec.convert(dict(row.items()), ConsentBasis)
