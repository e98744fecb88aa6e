"""The support queue as the console reads the desk's list: each case's target and the time left
in plain words, overdue first, the filters; the escalation and interpreter the timeline tells;
where each role lands after sign-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.console.domain.labels import labels_for
from services.console.domain.roles import home
from services.console.domain.support import (
    escalation,
    on_call_people,
    queue,
    seen,
    span,
    time_left,
)

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
ACK = {"urgent": 900, "normal": 3600}
EN = labels_for("en")
DE = labels_for("de")


def listed(
    name: str, *, priority: str, status: str = "open", opened: timedelta, **more: Any
) -> dict[str, Any]:
    return {
        "id": name,
        "priority": priority,
        "status": status,
        "opened_at": (NOW - opened).isoformat(),
        "resolve_by": (NOW - opened + timedelta(days=1)).isoformat(),
        "escalate_at": None,
        "acknowledge_breached": False,
        "resolve_breached": False,
    } | more


def test_an_open_case_counts_down_to_its_acknowledge_target_in_plain_words() -> None:
    (row,) = queue([listed("a", priority="urgent", opened=timedelta(minutes=3))], ACK, NOW)
    assert row.due.target == "acknowledge"
    assert row.due.by == NOW + timedelta(minutes=12)
    assert time_left(row.due, EN) == "12 min left"
    assert time_left(row.due, DE) == "noch 12 Min."


def test_a_case_past_its_target_reads_overdue_by_and_leads_the_queue() -> None:
    rows = queue(
        [
            listed("fresh-urgent", priority="urgent", opened=timedelta(minutes=1)),
            listed("late-normal", priority="normal", opened=timedelta(minutes=65)),
            listed("later-normal", priority="normal", opened=timedelta(minutes=90)),
            listed("fresh-normal", priority="normal", opened=timedelta(0)),
        ],
        ACK,
        NOW,
    )
    assert [r.case["id"] for r in rows] == [
        "later-normal",
        "late-normal",
        "fresh-urgent",
        "fresh-normal",
    ]
    assert time_left(rows[1].due, EN) == "overdue by 5 min"
    assert time_left(rows[0].due, DE) == "seit 30 Min. überfällig"


def test_the_desks_breach_flag_wins_over_the_clock_which_then_tells_no_minutes() -> None:
    (row,) = queue(
        [listed("a", priority="urgent", opened=timedelta(0), acknowledge_breached=True)], ACK, NOW
    )
    assert row.due.overdue
    assert time_left(row.due, EN) == "overdue"
    assert time_left(row.due, DE) == "überfällig"


def test_an_acknowledged_case_counts_down_to_its_resolve_target() -> None:
    (row,) = queue(
        [listed("a", priority="normal", status="acknowledged", opened=timedelta(hours=2))],
        ACK,
        NOW,
    )
    assert row.due.target == "resolve"
    assert time_left(row.due, EN) == "22 h left"


def test_filters_keep_only_the_priority_and_status_asked_for() -> None:
    cases = [
        listed("u", priority="urgent", opened=timedelta(0)),
        listed("n", priority="normal", opened=timedelta(0)),
        listed("k", priority="urgent", status="acknowledged", opened=timedelta(0)),
    ]
    assert [r.case["id"] for r in queue(cases, ACK, NOW, priority="urgent", status="open")] == ["u"]


def test_spans_read_in_minutes_hours_and_days() -> None:
    assert span(1, EN) == "1 min"
    assert span(60, EN) == "1 h"
    assert span(185, EN) == "3 h 5 min"
    assert span(2 * 1440 + 240, DE) == "2 Tg. 4 Std."


def test_the_timeline_tells_escalations_and_the_interpreter_asked_for() -> None:
    timeline = [
        {"at": "x", "kind": "opened", "detail": "patient: transfer"},
        {"at": "x", "kind": "interpreter_requested", "detail": "nobody on call speaks ar"},
        {"at": "x", "kind": "escalated", "person": "Ivan", "detail": "agent"},
    ]
    found = escalation(timeline)
    assert [s["person"] for s in found.steps] == ["Ivan"]
    assert found.interpreter == "nobody on call speaks ar"
    assert not found.exhausted
    assert escalation(timeline[:1]).interpreter is None


def test_what_the_page_saw_changes_with_the_status_and_each_message() -> None:
    view = {"status": "open", "messages": [{"body": "help"}]}
    assert seen(view) == "open:1"
    assert seen(view | {"messages": [{}, {}]}) != seen(view)
    assert seen(view | {"status": "acknowledged"}) != seen(view)


def test_each_role_lands_on_its_own_page_after_sign_in() -> None:
    assert home(("support_agent",)) == "/support"
    assert home(("editor", "support_agent")) == "/support"
    assert home(("coordinator", "support_agent")) == "/inbox"
    assert home(("editor",)) == "/editor"
    assert home(("admin",)) == "/inbox"
    assert home(()) == "/inbox"


def test_a_person_on_two_overlapping_shifts_is_on_call_once_until_the_later_end() -> None:
    def shift(person: str, ends: int) -> dict[str, Any]:
        return {
            "agent": {"person": person},
            "shift_ends_at": (NOW + timedelta(hours=ends)).isoformat(),
            "position": 0,
        }

    people = on_call_people([shift("Dana", 1), shift("Ivan", 2), shift("Dana", 3)])
    assert [(p["agent"]["person"], p["shift_ends_at"][11:13]) for p in people] == [
        ("Dana", "06"),
        ("Ivan", "05"),
    ]
