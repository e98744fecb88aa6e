"""The desk's people and rules: agent profiles, the rota for a period, who is on call, the
response targets; and the desk's figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from services.runtime.core.db import Pool
from services.runtime.core.errors import BadRequest, FieldProblem
from services.support.domain.model import Agent, OnCall, Policy, Shift
from services.support.store import cases, rota


async def save_agent(pool: Pool, agent: Agent) -> None:
    async with pool.acquire() as conn:
        await rota.upsert_agent(conn, agent, datetime.now(UTC))


async def agents(pool: Pool) -> list[Agent]:
    async with pool.acquire() as conn:
        return await rota.list_agents(conn)


async def replace_rota(
    pool: Pool, start: datetime, end: datetime, shifts: Sequence[Shift]
) -> list[Shift]:
    """Every shift must start within the period and name a known agent; otherwise nothing
    changes and every problem is told."""
    problems = [
        FieldProblem(
            field=f"$.shifts[{i}]", message="must start within the period and end after it starts"
        )
        for i, s in enumerate(shifts)
        if not (start <= s.starts_at < end) or s.ends_at <= s.starts_at
    ]
    async with pool.acquire() as conn, conn.transaction():
        unknown = await rota.unknown_people(conn, [s.person for s in shifts])
        problems += [
            FieldProblem(field=f"$.shifts[{i}].person", message=f"{s.person!r} is not an agent")
            for i, s in enumerate(shifts)
            if s.person in unknown
        ]
        if problems:
            raise BadRequest(problems)
        await rota.replace_shifts(conn, start, end, shifts)
        return await rota.shifts_between(conn, start, end)


async def rota_between(pool: Pool, start: datetime, end: datetime) -> list[Shift]:
    async with pool.acquire() as conn:
        return await rota.shifts_between(conn, start, end)


async def on_call(pool: Pool, at: datetime) -> list[OnCall]:
    async with pool.acquire() as conn:
        return await rota.on_call(conn, at)


async def set_policy(pool: Pool, policy: Policy) -> Policy:
    async with pool.acquire() as conn:
        await rota.set_policy(conn, policy, datetime.now(UTC))
    return policy


async def policies(pool: Pool) -> list[Policy]:
    async with pool.acquire() as conn:
        return await rota.policies(conn)


async def stats(pool: Pool) -> list[cases.PriorityStats]:
    async with pool.acquire() as conn:
        return await cases.stats(conn)
