"""The escalation loop's step: cases whose acknowledge deadline passed go to the next person
on call, then the lead. Deadlines live in the cases table; a step claims due cases with FOR
UPDATE SKIP LOCKED and escalates each, with its timeline entry and its event, in the same
transaction: a crash before the commit leaves the case due (escalated again, once), a crash
after leaves it escalated; replicas never take the same case."""

from __future__ import annotations

from datetime import datetime

import structlog

from contracts.registry import SUPPORT_CASE_ESCALATED
from contracts.support import CaseEscalated
from services.support.domain import routing
from services.support.domain.model import TimelineEntry
from services.support.store import cases, rota
from services.support.usecases.collaborators import Desk

log = structlog.get_logger(__name__)


async def escalate_due(d: Desk, *, now: datetime, limit: int) -> int:
    """Escalate up to `limit` due cases; returns how many were taken."""
    async with d.pool.acquire() as conn, conn.transaction():
        due = await cases.claim_due(conn, now, limit)
        if not due:
            return 0
        on_call = await rota.on_call(conn, now)
        leads = await rota.leads(conn)
        for case in due:
            policy = await rota.policy(conn, case.priority)
            notified = await cases.notified_of(conn, case.id)
            step = routing.escalate(
                case, notified, on_call=on_call, leads=leads, policy=policy, now=now
            )
            if step is None:
                await cases.escalated(conn, case.id, to=None, escalate_at=None)
                await cases.insert_timeline(
                    conn,
                    case.id,
                    TimelineEntry(at=now, kind="unescalated", detail="nobody left to escalate to"),
                )
                continue
            await cases.escalated(conn, case.id, to=step.to.person, escalate_at=step.acknowledge_by)
            await cases.insert_timeline(
                conn,
                case.id,
                TimelineEntry(at=now, kind="escalated", person=step.to.person, detail=step.level),
            )
            missed = case.escalate_at or now  # claimed for its passed deadline: never None
            await d.outbox.emit(
                conn,
                SUPPORT_CASE_ESCALATED.address,
                CaseEscalated(
                    case_id=str(case.id),
                    inquiry_id=None if case.inquiry_id is None else str(case.inquiry_id),
                    booking_id=None if case.booking_id is None else str(case.booking_id),
                    category=case.category,
                    priority=case.priority,
                    language=case.language,
                    level=step.level,
                    to_person=step.to.person,
                    to_email=step.to.email,
                    missed_deadline=missed,
                    acknowledge_by=step.acknowledge_by,
                    escalated_at=now,
                ),
            )
            log.info(
                "support case escalated",
                case_id=str(case.id),
                level=step.level,
                late_seconds=(now - missed).total_seconds(),
            )
    return len(due)


async def next_deadline(d: Desk) -> datetime | None:
    async with d.pool.acquire() as conn:
        return await cases.next_deadline(conn)
