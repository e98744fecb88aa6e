"""Agents, shifts and response targets."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec

from services.runtime.core.db import Connection
from services.support.domain.model import Agent, OnCall, Policy, Shift


async def upsert_agent(conn: Connection, agent: Agent, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO agents (person, email, languages, time_zone, lead, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (person) DO UPDATE SET email = $2, languages = $3, time_zone = $4,
               lead = $5, updated_at = $6""",
        agent.person,
        agent.email,
        list(agent.languages),
        agent.time_zone,
        agent.lead,
        now,
    )


def _agent(row: object) -> Agent:
    r = dict(row.items())  # type: ignore[attr-defined]
    return Agent(
        person=r["person"],
        email=r["email"],
        languages=tuple(r["languages"]),
        time_zone=r["time_zone"],
        lead=r["lead"],
    )


async def list_agents(conn: Connection) -> list[Agent]:
    rows = await conn.fetch(
        "SELECT person, email, languages, time_zone, lead FROM agents ORDER BY person"
    )
    return [_agent(r) for r in rows]


async def leads(conn: Connection) -> list[Agent]:
    rows = await conn.fetch(
        "SELECT person, email, languages, time_zone, lead FROM agents WHERE lead ORDER BY person"
    )
    return [_agent(r) for r in rows]


async def unknown_people(conn: Connection, people: Sequence[str]) -> list[str]:
    rows = await conn.fetch(
        """SELECT p FROM unnest($1::text[]) AS p
           WHERE NOT EXISTS (SELECT 1 FROM agents a WHERE a.person = p)""",
        list(people),
    )
    return [r["p"] for r in rows]


async def replace_shifts(
    conn: Connection, start: datetime, end: datetime, shifts: Sequence[Shift]
) -> None:
    """The period's rota is what is given: shifts starting within it are replaced."""
    await conn.execute("DELETE FROM shifts WHERE starts_at >= $1 AND starts_at < $2", start, end)
    await conn.executemany(
        """INSERT INTO shifts (id, person, starts_at, ends_at, position)
           VALUES ($1, $2, $3, $4, $5)""",
        [(uuid.uuid4(), s.person, s.starts_at, s.ends_at, s.position) for s in shifts],
    )


async def shifts_between(conn: Connection, start: datetime, end: datetime) -> list[Shift]:
    rows = await conn.fetch(
        """SELECT person, starts_at, ends_at, position FROM shifts
           WHERE ends_at > $1 AND starts_at < $2 ORDER BY starts_at, position""",
        start,
        end,
    )
    return [msgspec.convert(dict(r.items()), Shift) for r in rows]


async def on_call(conn: Connection, now: datetime) -> list[OnCall]:
    """Who is on call at `now`: a question to the rota, never a guess."""
    rows = await conn.fetch(
        """SELECT a.person, a.email, a.languages, a.time_zone, a.lead, s.ends_at, s.position
           FROM shifts s JOIN agents a USING (person)
           WHERE s.starts_at <= $1 AND s.ends_at > $1
           ORDER BY s.position, s.starts_at, a.person""",
        now,
    )
    return [
        OnCall(agent=_agent(r), shift_ends_at=r["ends_at"], position=r["position"]) for r in rows
    ]


async def policy(conn: Connection, priority: str) -> Policy:
    row = await conn.fetchrow(
        """SELECT priority, acknowledge_within_seconds, resolve_within_seconds
           FROM policies WHERE priority = $1""",
        priority,
    )
    return msgspec.convert(dict(row.items()), Policy)  # type: ignore[union-attr]  # seeded


async def policies(conn: Connection) -> list[Policy]:
    rows = await conn.fetch(
        """SELECT priority, acknowledge_within_seconds, resolve_within_seconds
           FROM policies ORDER BY priority DESC"""
    )
    return [msgspec.convert(dict(r.items()), Policy) for r in rows]


async def set_policy(conn: Connection, p: Policy, now: datetime) -> None:
    await conn.execute(
        """UPDATE policies SET acknowledge_within_seconds = $2, resolve_within_seconds = $3,
               updated_at = $4
           WHERE priority = $1""",
        p.priority,
        p.acknowledge_within_seconds,
        p.resolve_within_seconds,
        now,
    )
