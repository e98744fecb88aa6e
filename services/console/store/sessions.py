"""The console's one table: sessions. One function per statement."""

from __future__ import annotations

from datetime import datetime

from services.console.domain.sessions import Session
from services.runtime.core.db import Connection, Pool

_COLUMNS = "id_hash, roles, locale, csrf, created_at, last_seen_at"


async def insert_session(conn: Connection | Pool, session: Session, sealed_token: bytes) -> None:
    await conn.execute(
        "INSERT INTO sessions (id_hash, sealed_token, roles, locale, csrf, created_at,"
        " last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        session.id_hash,
        sealed_token,
        list(session.roles),
        session.locale,
        session.csrf,
        session.created_at,
        session.last_seen_at,
    )


async def load_session(conn: Connection | Pool, id_hash: bytes) -> tuple[Session, bytes] | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS}, sealed_token FROM sessions WHERE id_hash = $1", id_hash
    )
    if row is None:
        return None
    session = Session(
        id_hash=row["id_hash"],
        roles=tuple(row["roles"]),
        locale=row["locale"],
        csrf=row["csrf"],
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
    )
    return session, bytes(row["sealed_token"])


async def touch_session(conn: Connection | Pool, id_hash: bytes, now: datetime) -> None:
    await conn.execute("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1", id_hash, now)


async def set_locale(conn: Connection | Pool, id_hash: bytes, locale: str) -> None:
    await conn.execute("UPDATE sessions SET locale = $2 WHERE id_hash = $1", id_hash, locale)


async def delete_session(conn: Connection | Pool, id_hash: bytes) -> None:
    await conn.execute("DELETE FROM sessions WHERE id_hash = $1", id_hash)


async def delete_sessions_seen_before(conn: Connection | Pool, before: datetime) -> int:
    status = await conn.execute("DELETE FROM sessions WHERE last_seen_at < $1", before)
    return int(status.split()[-1])
