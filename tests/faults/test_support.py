"""While support cases escalate along a rota (four agents on call, then the lead, two seconds
apart), the support process is killed with SIGKILL three times and started again. Afterwards
every case went to each person once, in order: no escalation lost, none doubled, on the
timeline, in the events (notifications' mail rows) and at the SMTP catcher."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.faults.stack import FaultyStack, running_stack

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

KILLS = 3
CASES = 12
ACK_SECONDS = 2
GAP = 2.5
SETTLE_DEADLINE = 90.0
AGENTS = ("Agent A", "Agent B", "Agent C", "Agent D")
LEAD = "Lead L"
# Each case starts with the first agent and escalates to every other one, then the lead.
CHAIN = [*AGENTS[1:], LEAD]
OVERRIDES = {"SUPPORT_ESCALATION_INTERVAL": "0.2", "NOTIFICATIONS_SEND_INTERVAL": "0.2"}


def email_of(person: str) -> str:
    return person.lower().replace(" ", ".") + "@carebridge.example"


async def desk(client: httpx.AsyncClient, coordinator: dict[str, str]) -> None:
    for person in (*AGENTS, LEAD):
        answer = await client.put(
            f"/v1/support/agents/{person}",
            json={"email": email_of(person), "languages": ["en"], "lead": person == LEAD},
            headers=coordinator,
        )
        assert answer.status_code == 200, answer.text
    now = datetime.now(UTC)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    shifts = [
        {
            "person": person,
            "starts_at": start.isoformat(),
            "ends_at": (now + timedelta(hours=8)).isoformat(),
            "position": position,
        }
        for position, person in enumerate(AGENTS)
    ]
    answer = await client.put(
        "/v1/support/rota",
        json={"starts_at": start.isoformat(), "ends_at": end.isoformat(), "shifts": shifts},
        headers=coordinator,
    )
    assert answer.status_code == 200, answer.text
    answer = await client.put(
        "/v1/support/policies/urgent",
        json={"acknowledge_within_seconds": ACK_SECONDS, "resolve_within_seconds": 3600},
        headers=coordinator,
    )
    assert answer.status_code == 200, answer.text


async def escalations(database_url: str) -> dict[str, list[str]]:
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        rows = await conn.fetch(
            """SELECT case_id::text, person FROM support.case_timeline
               WHERE kind = 'escalated' ORDER BY id"""
        )
    finally:
        await conn.close()
    found: dict[str, list[str]] = {}
    for r in rows:
        found.setdefault(r["case_id"], []).append(r["person"])
    return found


async def still_due(database_url: str) -> int:
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM support.cases WHERE escalate_at IS NOT NULL"
        )
    finally:
        await conn.close()
    return count


async def mails(database_url: str) -> list[Any]:
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        return list(
            await conn.fetch(
                """SELECT params->>'case_id' AS case_id, params->>'to_person' AS person, status
                   FROM notifications.notifications WHERE kind = 'support_case_escalated'"""
            )
        )
    finally:
        await conn.close()


async def settle(stack: FaultyStack) -> None:
    until = time.monotonic() + SETTLE_DEADLINE
    while time.monotonic() < until:
        sent = [m for m in await mails(stack.database_url) if m["status"] == "sent"]
        if await still_due(stack.database_url) == 0 and len(sent) >= CASES * len(CHAIN):
            return
        await asyncio.sleep(1.0)


async def test_killing_support_mid_escalation_loses_and_doubles_nothing(
    tmp_path: Path, report: list[str]
) -> None:
    async with running_stack(tmp_path / "stack", OVERRIDES) as stack:
        url = stack.manifest["services"]["support"]
        coordinator = {
            "Authorization": f"Bearer {stack.manifest['credentials']['staff']['coordinator']}"
        }
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            await desk(client, coordinator)
            opened = []
            for n in range(CASES):
                answer = await client.post(
                    "/v1/support/cases",
                    json={
                        "booking_id": str(uuid.uuid4()),
                        "category": "transfer",
                        "priority": "urgent",
                        "language": "en",
                        "message": f"case {n}",
                    },
                    headers=coordinator,
                )
                assert answer.status_code == 201, answer.text
                opened.append(answer.json()["id"])
                await asyncio.sleep(0.3)
        for _ in range(KILLS):
            await asyncio.sleep(GAP)
            await stack.kill("support")
        await settle(stack)
        found = await escalations(stack.database_url)
        mailed = await mails(stack.database_url)
        errors = stack.errors_logged()

    per_mail = Counter((m["case_id"], m["person"]) for m in mailed)
    report.append(
        f"support: {CASES} cases, {KILLS} kills mid-escalation, "
        f"{sum(len(v) for v in found.values())} escalations, {len(mailed)} mails "
        f"{dict(Counter(m['status'] for m in mailed))}"
    )
    assert [f.target for f in stack.faults] == ["support"] * KILLS
    # Each case went to each next person once, in order: nothing lost, nothing doubled.
    assert {case: found.get(case) for case in opened} == dict.fromkeys(opened, CHAIN)
    assert per_mail == Counter({(case, person): 1 for case in opened for person in CHAIN})
    assert {m["status"] for m in mailed} == {"sent"}
    assert errors == []
