"""Who a case goes to: on opening, the first agent on call who speaks the patient's language
(an interpreter is asked for when nobody does); when it is not acknowledged in time, the next
person on call not yet tried, then the lead. Pure: given who is on call and `now`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from contracts.support import Category, Priority
from services.support.domain.emergency import emergency_answer
from services.support.domain.model import Agent, Case, NewCase, OnCall, Policy, TimelineEntry

Level = Literal["agent", "lead"]
# The cases in which a person speaks to the desk in their language: the patient, or a
# coordinator with the patient on the phone. A system case (an unassigned booking, an
# unreachable patient) or a partner's has no one to interpret for, and asking logistics for an
# interpreter there would feed back: an interpreter booking nobody takes is itself an
# unassigned booking, which opens a system case.
SPOKEN: frozenset[str] = frozenset({"patient", "coordinator"})


class Opened(msgspec.Struct, frozen=True, kw_only=True):
    """What opening a case decides: its priority, who holds it, its deadlines, what the
    timeline says, the desk's own first answer, and whether an interpreter is needed."""

    priority: Priority
    assignee: Agent | None
    escalate_at: datetime | None
    resolve_by: datetime
    timeline: tuple[TimelineEntry, ...]
    auto_answer: str | None
    interpreter: bool


class Escalation(msgspec.Struct, frozen=True, kw_only=True):
    to: Agent
    level: Level
    # When the new holder must acknowledge by; None when nobody would be left after them.
    acknowledge_by: datetime | None


def priority_of(category: Category, asked: Priority) -> Priority:
    """A medical case is always urgent, whatever was asked."""
    return "urgent" if category == "medical" else asked


def in_order(on_call: Sequence[OnCall], language: str) -> list[Agent]:
    """The agents on call, those who speak `language` first, each group in rota order."""
    ordered = sorted(on_call, key=lambda o: (language not in o.agent.languages, o.position))
    seen: dict[str, Agent] = {}
    for one in ordered:
        seen.setdefault(one.agent.person, one.agent)
    return list(seen.values())


def open_case(
    new: NewCase,
    *,
    on_call: Sequence[OnCall],
    policy: Policy,
    now: datetime,
    emergency_number: str,
    clinic_phone: str | None,
) -> Opened:
    priority = priority_of(new.category, new.priority)
    agents = in_order(on_call, new.language)
    assignee = agents[0] if agents else None
    unspoken = assignee is None or new.language not in assignee.languages
    interpreter = new.origin in SPOKEN and unspoken
    timeline = [TimelineEntry(at=now, kind="opened", detail=f"{new.origin}: {new.category}")]
    auto_answer = None
    if new.category == "medical":
        auto_answer = emergency_answer(
            new.language, emergency_number=emergency_number, clinic_phone=clinic_phone
        )
        timeline.append(
            TimelineEntry(at=now, kind="auto_answered", detail="emergency instructions sent")
        )
    if assignee is not None:
        timeline.append(TimelineEntry(at=now, kind="assigned", person=assignee.person))
    else:
        timeline.append(TimelineEntry(at=now, kind="assigned", detail="nobody on call"))
    if interpreter:
        timeline.append(
            TimelineEntry(
                at=now,
                kind="interpreter_requested",
                detail=f"nobody on call speaks {new.language}: interpreter asked of logistics",
            )
        )
    return Opened(
        priority=priority,
        assignee=assignee,
        escalate_at=now + timedelta(seconds=policy.acknowledge_within_seconds),
        resolve_by=now + timedelta(seconds=policy.resolve_within_seconds),
        timeline=tuple(timeline),
        auto_answer=auto_answer,
        interpreter=interpreter,
    )


def escalation_chain(
    case: Case, notified: Sequence[str], on_call: Sequence[OnCall], leads: Sequence[Agent]
) -> list[tuple[Agent, Level]]:
    """Who is still left to try, in order: the agents on call not yet tried, then the leads."""
    tried = set(notified)
    chain: list[tuple[Agent, Level]] = [
        (a, "agent") for a in in_order(on_call, case.language) if a.person not in tried
    ]
    chain_people = {a.person for a, _ in chain}
    chain += [(a, "lead") for a in leads if a.person not in tried and a.person not in chain_people]
    return chain


def escalate(
    case: Case,
    notified: Sequence[str],
    *,
    on_call: Sequence[OnCall],
    leads: Sequence[Agent],
    policy: Policy,
    now: datetime,
) -> Escalation | None:
    """The next person a case that missed its acknowledge deadline goes to; None when everyone
    was tried (the case stays with its holder, its breach counted)."""
    chain = escalation_chain(case, notified, on_call, leads)
    if not chain:
        return None
    to, level = chain[0]
    later = now + timedelta(seconds=policy.acknowledge_within_seconds)
    return Escalation(to=to, level=level, acknowledge_by=later if len(chain) > 1 else None)
