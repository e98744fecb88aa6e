"""A case as the desk and the patient read it: one consistent moment, whatever commits while it
is read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.runtime.core.db import Pool, create_pool
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing
from services.support.app import DEFINITION
from services.support.domain.model import NewCase, TimelineEntry
from services.support.store import cases
from services.support.usecases import case_view
from services.support.usecases.collaborators import Desk

pytestmark = pytest.mark.timeout(60)

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
ESCALATIONS = 300


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, schema=DEFINITION.schema, min_size=2, max_size=3)
    yield pool
    await pool.close()


async def never(inquiry_id: str, token: str) -> bool:
    return False


async def test_a_case_read_while_it_escalates_shows_the_assignee_its_timeline_names(
    pool: Pool,
) -> None:
    desk = Desk(
        pool=pool,
        outbox=Outbox(source="/carebridge/support", schema=DEFINITION.schema),
        keys=KeyRing.from_setting(KeyRing.generate_setting("t1")),
        check_token=never,
        emergency_number="112",
        clinic_phone=None,
    )
    case_id = uuid.uuid4()
    new = NewCase(
        origin="coordinator", category="transfer", priority="urgent", language="en", message=""
    )
    async with pool.acquire() as conn:
        await cases.insert_case(
            conn,
            case_id,
            new,
            priority="urgent",
            assignee="agent-0",
            escalate_at=NOW,
            resolve_by=NOW + timedelta(days=1),
            now=NOW,
        )
    done = asyncio.Event()

    async def escalate() -> None:
        """As the desk's timer does: the new assignee and its timeline entry in one commit."""
        for n in range(1, ESCALATIONS + 1):
            async with pool.acquire() as conn, conn.transaction():
                person = f"agent-{n}"
                await cases.escalated(conn, case_id, to=person, escalate_at=NOW)
                entry = TimelineEntry(at=NOW, kind="escalated", person=person, detail="agent")
                await cases.insert_timeline(conn, case_id, entry)
        done.set()

    async def read() -> list[tuple[str | None, str | None]]:
        seen = []
        while not done.is_set():
            view = await case_view(desk, case_id)
            named = [e.person for e in view.timeline if e.kind == "escalated"]
            seen.append((view.assignee, named[-1] if named else "agent-0"))
        return seen

    _, seen = await asyncio.gather(escalate(), read())

    assert len(seen) > 10  # the reads overlapped the escalations
    assert [pair for pair in seen if pair[0] != pair[1]] == []
