"""Cases, their timeline and their thread (sealed)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from services.runtime.core.db import Connection
from services.support.domain.model import Case, NewCase, TimelineEntry

_CASE_COLUMNS = """id, origin, inquiry_id, booking_id, partner_id, category, priority, language,
    status, assignee, escalate_at, resolve_by, opened_at, acknowledged_at, resolved_at,
    acknowledge_breached, resolve_breached, erased_at"""


def message_aad(case_id: uuid.UUID, message_id: uuid.UUID) -> bytes:
    return f"support-case:{case_id}:message:{message_id}".encode()


def _case(row: Any) -> Case:
    return msgspec.convert(dict(row.items()), Case)


async def insert_case(
    conn: Connection,
    case_id: uuid.UUID,
    new: NewCase,
    *,
    priority: str,
    assignee: str | None,
    escalate_at: datetime | None,
    resolve_by: datetime,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO cases (id, origin, inquiry_id, booking_id, partner_id, category, priority,
               language, assignee, notified, escalate_at, resolve_by, opened_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
        case_id,
        new.origin,
        new.inquiry_id,
        new.booking_id,
        new.partner_id,
        new.category,
        priority,
        new.language,
        assignee,
        [assignee] if assignee else [],
        escalate_at,
        resolve_by,
        now,
    )


async def claim_opening(
    conn: Connection, scope: str, key: str, case_id: uuid.UUID, now: datetime
) -> uuid.UUID:
    """Record that `key` of `scope` opens `case_id`; the case an earlier opening with the same
    key made, when there is one (then this transaction must not keep its own)."""
    found: uuid.UUID | None = await conn.fetchval(
        """WITH claimed AS (
               INSERT INTO case_openings (scope, key, case_id, created_at)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (scope, key) DO NOTHING
               RETURNING case_id)
           SELECT case_id FROM claimed
           UNION ALL
           SELECT case_id FROM case_openings WHERE scope = $1 AND key = $2
           LIMIT 1""",
        scope,
        key,
        case_id,
        now,
    )
    if found is None:
        # It waited on a concurrent opening with the key, committed after this statement's
        # snapshot: a new statement sees it.
        found = await conn.fetchval(
            "SELECT case_id FROM case_openings WHERE scope = $1 AND key = $2", scope, key
        )
    return found


async def insert_timeline(conn: Connection, case_id: uuid.UUID, entry: TimelineEntry) -> None:
    await conn.execute(
        """INSERT INTO case_timeline (case_id, at, kind, person, detail)
           VALUES ($1, $2, $3, $4, $5)""",
        case_id,
        entry.at,
        entry.kind,
        entry.person,
        entry.detail,
    )


async def insert_message(
    conn: Connection,
    case_id: uuid.UUID,
    message_id: uuid.UUID,
    *,
    at: datetime,
    author: str,
    author_name: str | None,
    sealed_body: bytes,
) -> None:
    await conn.execute(
        """INSERT INTO case_messages (id, case_id, at, author, author_name, sealed_body)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        message_id,
        case_id,
        at,
        author,
        author_name,
        sealed_body,
    )


async def get_case(conn: Connection, case_id: uuid.UUID, *, lock: bool = False) -> Case | None:
    row = await conn.fetchrow(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = $1" + (" FOR UPDATE" if lock else ""),
        case_id,
    )
    return None if row is None else _case(row)


async def notified_of(conn: Connection, case_id: uuid.UUID) -> list[str]:
    return list(await conn.fetchval("SELECT notified FROM cases WHERE id = $1", case_id) or [])


async def timeline(conn: Connection, case_id: uuid.UUID) -> list[TimelineEntry]:
    rows = await conn.fetch(
        "SELECT at, kind, person, detail FROM case_timeline WHERE case_id = $1 ORDER BY id",
        case_id,
    )
    return [msgspec.convert(dict(r.items()), TimelineEntry) for r in rows]


class SealedMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    at: datetime
    author: str
    author_name: str | None
    sealed_body: bytes


async def messages(conn: Connection, case_id: uuid.UUID) -> list[SealedMessage]:
    rows = await conn.fetch(
        """SELECT id, at, author, author_name, sealed_body FROM case_messages
           WHERE case_id = $1 ORDER BY at, id""",
        case_id,
    )
    return [msgspec.convert(dict(r.items()), SealedMessage) for r in rows]


async def claim_due(conn: Connection, now: datetime, limit: int) -> list[Case]:
    """Open cases whose acknowledge deadline passed, locked for this transaction; a replica
    skips the ones another holds, so each is escalated once."""
    rows = await conn.fetch(
        f"""SELECT {_CASE_COLUMNS} FROM cases
            WHERE escalate_at <= $1 AND status = 'open'
            ORDER BY escalate_at LIMIT $2
            FOR UPDATE SKIP LOCKED""",
        now,
        limit,
    )
    return [_case(r) for r in rows]


async def next_deadline(conn: Connection) -> datetime | None:
    """The earliest acknowledge deadline still ahead of the escalation loop."""
    found: datetime | None = await conn.fetchval(
        "SELECT min(escalate_at) FROM cases WHERE escalate_at IS NOT NULL AND status = 'open'"
    )
    return found


async def escalated(
    conn: Connection, case_id: uuid.UUID, *, to: str | None, escalate_at: datetime | None
) -> None:
    """The deadline was missed: the case goes to `to` (when anyone is left) with its new
    deadline, and the breach is counted."""
    await conn.execute(
        """UPDATE cases SET acknowledge_breached = true, escalate_at = $3,
               assignee = COALESCE($2, assignee),
               notified = CASE WHEN $2::text IS NULL THEN notified ELSE notified || $2::text END
           WHERE id = $1""",
        case_id,
        to,
        escalate_at,
    )


async def acknowledge(conn: Connection, case_id: uuid.UUID, person: str, now: datetime) -> None:
    await conn.execute(
        """UPDATE cases SET status = 'acknowledged', acknowledged_at = $3, escalate_at = NULL,
               assignee = $2
           WHERE id = $1""",
        case_id,
        person,
        now,
    )


async def resolve(conn: Connection, case_id: uuid.UUID, person: str, now: datetime) -> None:
    await conn.execute(
        """UPDATE cases SET status = 'resolved', resolved_at = $3, escalate_at = NULL,
               acknowledged_at = COALESCE(acknowledged_at, $3),
               assignee = COALESCE(assignee, $2),
               resolve_breached = resolve_by < $3
           WHERE id = $1""",
        case_id,
        person,
        now,
    )


async def cases_of_inquiry(conn: Connection, inquiry_id: str) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "SELECT id FROM cases WHERE inquiry_id = $1 AND erased_at IS NULL FOR UPDATE",
        uuid.UUID(inquiry_id),
    )
    return [r["id"] for r in rows]


async def every_case_of_inquiry(conn: Connection, inquiry_id: str) -> list[Case]:
    """The inquiry's cases, erased ones too, oldest first (its export)."""
    rows = await conn.fetch(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE inquiry_id = $1 ORDER BY opened_at, id",
        uuid.UUID(inquiry_id),
    )
    return [_case(r) for r in rows]


async def erase_thread(conn: Connection, case_id: uuid.UUID, now: datetime) -> int:
    """The thread goes; the case's ids, kinds and times stay for the desk's figures."""
    deleted = await conn.execute("DELETE FROM case_messages WHERE case_id = $1", case_id)
    await conn.execute("UPDATE cases SET erased_at = $2 WHERE id = $1", case_id, now)
    return int(deleted.split()[-1])


async def open_cases(conn: Connection, limit: int) -> list[Case]:
    rows = await conn.fetch(
        f"""SELECT {_CASE_COLUMNS} FROM cases WHERE status <> 'resolved'
            ORDER BY priority DESC, opened_at LIMIT $1""",
        limit,
    )
    return [_case(r) for r in rows]


class PriorityStats(msgspec.Struct, frozen=True, kw_only=True):
    priority: str
    opened: int
    acknowledged: int
    resolved: int
    acknowledge_p50_seconds: float | None
    acknowledge_p95_seconds: float | None
    resolve_p50_seconds: float | None
    resolve_p95_seconds: float | None
    acknowledge_breaches: int
    resolve_breaches: int


async def stats(conn: Connection) -> list[PriorityStats]:
    rows = await conn.fetch(
        """WITH d AS (
               SELECT priority, acknowledge_breached, acknowledged_at, resolved_at,
                      -- Still open past its target is a breach already, not only once resolved.
                      resolve_breached OR (resolved_at IS NULL AND resolve_by < now())
                          AS resolve_breached,
                      extract(epoch FROM acknowledged_at - opened_at) AS ack,
                      extract(epoch FROM resolved_at - opened_at) AS res
               FROM cases)
           SELECT p.priority,
                  count(d.priority) AS opened,
                  count(d.acknowledged_at) AS acknowledged,
                  count(d.resolved_at) AS resolved,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY d.ack) AS acknowledge_p50_seconds,
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY d.ack) AS acknowledge_p95_seconds,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY d.res) AS resolve_p50_seconds,
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY d.res) AS resolve_p95_seconds,
                  count(*) FILTER (WHERE d.acknowledge_breached) AS acknowledge_breaches,
                  count(*) FILTER (WHERE d.resolve_breached) AS resolve_breaches
           FROM policies p LEFT JOIN d ON d.priority = p.priority
           GROUP BY p.priority ORDER BY p.priority DESC"""
    )
    return [msgspec.convert(dict(r.items()), PriorityStats) for r in rows]
