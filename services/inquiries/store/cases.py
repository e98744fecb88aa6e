"""SQL of the case itself, shared by every capability: its row, locked for a change and saved
after one, and its timeline. One function per statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from services.inquiries.domain.model import Case, TimelineEntry
from services.runtime.core.db import Connection


async def insert_timeline(
    conn: Connection, inquiry_id: uuid.UUID, kind: str, detail: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO timeline (inquiry_id, at, kind, detail) VALUES ($1, $2, $3, $4)",
        inquiry_id,
        now,
        kind,
        msgspec.json.encode(detail).decode(),
    )


async def timeline(conn: Connection, inquiry_id: uuid.UUID) -> list[TimelineEntry]:
    rows = await conn.fetch(
        "SELECT at, kind, detail FROM timeline WHERE inquiry_id = $1 ORDER BY id", inquiry_id
    )
    return [
        TimelineEntry(at=r["at"], kind=r["kind"], detail=msgspec.json.decode(r["detail"]))
        for r in rows
    ]


class CaseRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: str
    version: int
    condition_slug: str
    preferred_country: str
    services: list[str]
    source: str
    coordinator: str | None
    personal: bytes | None
    submitted_at: datetime
    updated_at: datetime


CASE_COLUMNS = """id, status, version, condition_slug, preferred_country, services, source,
    coordinator, personal, submitted_at, updated_at"""


def case_row(row: Any) -> CaseRow:
    return msgspec.convert(dict(row.items()), CaseRow)


async def find_case(conn: Connection, inquiry_id: uuid.UUID) -> CaseRow | None:
    row = await conn.fetchrow(f"SELECT {CASE_COLUMNS} FROM inquiries WHERE id = $1", inquiry_id)
    return None if row is None else case_row(row)


async def lock_case(conn: Connection, inquiry_id: uuid.UUID) -> CaseRow | None:
    """The case, locked until the transaction ends: every write to a case goes through here."""
    row = await conn.fetchrow(
        f"SELECT {CASE_COLUMNS} FROM inquiries WHERE id = $1 FOR UPDATE", inquiry_id
    )
    return None if row is None else case_row(row)


async def lock_case_by_token(
    conn: Connection, inquiry_id: uuid.UUID, token_hash: bytes
) -> CaseRow | None:
    row = await conn.fetchrow(
        f"""SELECT {CASE_COLUMNS} FROM inquiries WHERE id = $1 AND access_token_hash = $2
            FOR UPDATE""",
        inquiry_id,
        token_hash,
    )
    return None if row is None else case_row(row)


async def update_case(conn: Connection, case: Case, now: datetime) -> None:
    """Save the state a decision gave the case (its version bumped by the decision)."""
    await conn.execute(
        """UPDATE inquiries SET status = $2, coordinator = $3, version = $4, updated_at = $5
           WHERE id = $1""",
        case.id,
        case.status,
        case.coordinator,
        case.version,
        now,
    )
