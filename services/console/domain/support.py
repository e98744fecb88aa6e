"""The support desk as an agent reads it: which response target a case is working towards, how
much time is left (or how long it is overdue) in plain words, the queue in the order to work it,
and what the case's timeline says about escalation and interpreters. Pure: given `now`.

The desk's API names no target per case: a case still `open` must be acknowledged within its
priority's policy from when it opened; an acknowledged one must be resolved by its
`resolve_by`. The API's own breach flags win over the console's arithmetic."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

PRIORITIES = ("urgent", "normal")
STATUSES = ("open", "acknowledged")
Target = Literal["acknowledge", "resolve"]


class Due(msgspec.Struct, frozen=True, kw_only=True):
    """A case's next response target and where it stands against it."""

    target: Target
    by: datetime
    overdue: bool
    # Whole minutes left (or past, when overdue), rounded towards the person: "1 min left"
    # until the last second, "overdue by 1 min" from the first. None when the desk says the
    # target was missed but the clock says it is still ahead (the policy was changed since the
    # case opened): overdue, by how much unknown.
    minutes: int | None


class Row(msgspec.Struct, frozen=True, kw_only=True):
    case: dict[str, Any]
    due: Due


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def due(case: Mapping[str, Any], acknowledge_within: Mapping[str, int], now: datetime) -> Due:
    """The target a case not yet resolved works towards, from the desk's list entry."""
    opened = moment(case["opened_at"])
    if case["status"] == "open":
        seconds = acknowledge_within.get(case["priority"])
        # Without the policy (never on a working desk) the holder's escalation deadline is
        # the nearest thing the case carries.
        by = (
            opened + timedelta(seconds=seconds)
            if seconds is not None
            else moment(case.get("escalate_at") or case["resolve_by"])
        )
        return _standing("acknowledge", by, now, bool(case.get("acknowledge_breached")))
    return _standing("resolve", moment(case["resolve_by"]), now, bool(case.get("resolve_breached")))


def _standing(target: Target, by: datetime, now: datetime, breached: bool) -> Due:
    seconds = (by - now).total_seconds()
    if breached and seconds > 0:
        return Due(target=target, by=by, overdue=True, minutes=None)
    overdue = seconds <= 0
    left = -seconds if overdue else seconds
    minutes = max(1, int(-(-left // 60)))  # ceiling: never "0 min"
    return Due(target=target, by=by, overdue=overdue, minutes=minutes)


def span(minutes: int, units: Mapping[str, str]) -> str:
    """Minutes as a person reads them: "12 min", "3 h 5 min", "2 d 4 h"."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} {units['unit_d']}" + (f" {hours} {units['unit_h']}" if hours else "")
    if hours:
        return f"{hours} {units['unit_h']}" + (f" {mins} {units['unit_min']}" if mins else "")
    return f"{mins} {units['unit_min']}"


def time_left(d: Due, words: Mapping[str, str]) -> str:
    """ "12 min left" / "overdue by 5 min", in the person's language."""
    if d.minutes is None:
        return words["overdue"]
    template = words["overdue_by"] if d.overdue else words["time_left"]
    return template.format(span=span(d.minutes, words))


def queue(
    cases: Iterable[Mapping[str, Any]],
    acknowledge_within: Mapping[str, int],
    now: datetime,
    *,
    priority: str = "",
    status: str = "",
) -> list[Row]:
    """The cases matching the filters, overdue first, then urgent before normal, then the
    least time left (the most overdue first among the overdue)."""
    rows = [
        Row(case=dict(c), due=due(c, acknowledge_within, now))
        for c in cases
        if (not priority or c["priority"] == priority) and (not status or c["status"] == status)
    ]
    return sorted(
        rows,
        key=lambda r: (
            not r.due.overdue,
            PRIORITIES.index(r.case["priority"]) if r.case["priority"] in PRIORITIES else 99,
            (r.due.by - now).total_seconds(),
        ),
    )


def acknowledge_targets(policies: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return {p["priority"]: int(p["acknowledge_within_seconds"]) for p in policies}


class Escalation(msgspec.Struct, frozen=True, kw_only=True):
    """What the timeline says: who it went to and when, whether it stopped for want of anyone
    left, and the interpreter asked for (its detail) when the holder does not speak the
    patient's language."""

    steps: tuple[dict[str, Any], ...]
    exhausted: bool
    interpreter: str | None


def escalation(timeline: Sequence[Mapping[str, Any]]) -> Escalation:
    return Escalation(
        steps=tuple(dict(e) for e in timeline if e["kind"] == "escalated"),
        exhausted=any(e["kind"] == "unescalated" for e in timeline),
        interpreter=next(
            (str(e.get("detail") or "") for e in timeline if e["kind"] == "interpreter_requested"),
            None,
        ),
    )


def seen(view: Mapping[str, Any]) -> str:
    """What the page showed of a case, sent back with an action: its status and how many
    messages its thread held. The desk takes no If-Match, so the console compares this with a
    fresh read before acting: a case someone acknowledged, resolved or wrote in meanwhile is
    shown as changed, not acted on blind."""
    return f"{view['status']}:{len(view.get('messages') or ())}"


def on_call_people(on_call: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per person on call, in the desk's order, until the latest of their shifts that
    hold now (overlapping shifts of one person are the rota's, not two people)."""
    people: dict[str, dict[str, Any]] = {}
    for one in on_call:
        person = one["agent"]["person"]
        if person not in people:
            people[person] = dict(one)
        elif moment(one["shift_ends_at"]) > moment(people[person]["shift_ends_at"]):
            people[person]["shift_ends_at"] = one["shift_ends_at"]
    return list(people.values())
