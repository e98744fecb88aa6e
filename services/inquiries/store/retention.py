"""SQL of the retention job: due free text, its schedule and its reports. One function per
statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from services.inquiries.store.privacy import FREE_TEXT_WIPES
from services.runtime.core.db import Connection

Trigger = Literal["schedule", "command"]

_FREE_TEXT_DUE = """
    FROM inquiries i
    WHERE i.erased_at IS NULL AND i.status = ANY($1::text[]) AND i.updated_at < $2
      AND (EXISTS (SELECT 1 FROM notes n WHERE n.inquiry_id = i.id AND n.body IS NOT NULL)
           OR EXISTS (SELECT 1 FROM timeline t WHERE t.inquiry_id = i.id AND t.detail ? 'reason'))
"""


class Run(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    trigger: Trigger
    started_at: datetime
    finished_at: datetime
    purged: dict[str, int]


async def claim_free_text_before(
    conn: Connection, statuses: list[str], closed_before: datetime, limit: int
) -> list[uuid.UUID]:
    """Closed, not yet erased cases that still hold free text; SKIP LOCKED, as erasure's."""
    rows = await conn.fetch(
        f"""SELECT i.id {_FREE_TEXT_DUE}
            ORDER BY i.updated_at, i.id LIMIT $3 FOR UPDATE OF i SKIP LOCKED""",
        statuses,
        closed_before,
        limit,
    )
    return [r["id"] for r in rows]


async def count_free_text_before(
    conn: Connection, statuses: list[str], closed_before: datetime
) -> int:
    return int(await conn.fetchval(f"SELECT count(*) {_FREE_TEXT_DUE}", statuses, closed_before))


async def wipe_free_text(conn: Connection, inquiry_id: uuid.UUID) -> None:
    for statement in FREE_TEXT_WIPES:
        await conn.execute(statement, inquiry_id)


async def claim_run(conn: Connection, job: str, now: datetime, interval: timedelta) -> bool:
    """True when this caller takes the job's run that is due now: the first ever, or one an
    interval after the last began. Replicas racing for it get False."""
    claimed = await conn.fetchval(
        """INSERT INTO retention_schedule AS s (job, last_run_at) VALUES ($1, $2)
           ON CONFLICT (job) DO UPDATE SET last_run_at = EXCLUDED.last_run_at
           WHERE s.last_run_at <= $3
           RETURNING true""",
        job,
        now,
        now - interval,
    )
    return bool(claimed)


async def insert_run(
    conn: Connection,
    *,
    trigger: Trigger,
    started_at: datetime,
    finished_at: datetime,
    purged: dict[str, int],
) -> None:
    await conn.execute(
        """INSERT INTO retention_runs (trigger, started_at, finished_at, purged)
           VALUES ($1, $2, $3, $4::jsonb)""",
        trigger,
        started_at,
        finished_at,
        msgspec.json.encode(purged).decode(),
    )


async def latest_runs(conn: Connection, limit: int) -> list[Run]:
    rows = await conn.fetch(
        """SELECT id, trigger, started_at, finished_at, purged::text AS purged
           FROM retention_runs ORDER BY started_at DESC, id DESC LIMIT $1""",
        limit,
    )
    return [
        msgspec.convert({**dict(r.items()), "purged": msgspec.json.decode(r["purged"])}, Run)
        for r in rows
    ]
