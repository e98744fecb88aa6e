"""Who a case goes to, and what the desk answers first: pure decisions, given the rota and
`now`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.support.domain import routing
from services.support.domain.emergency import LANGUAGES, emergency_answer
from services.support.domain.model import Agent, Case, NewCase, OnCall, Policy

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
POLICY = Policy(priority="urgent", acknowledge_within_seconds=300, resolve_within_seconds=3600)
DANA = Agent(person="Dana", email="dana@x.example", languages=("en", "de"))
IVAN = Agent(person="Ivan", email="ivan@x.example", languages=("uk", "ru"))
OLGA = Agent(person="Olga", email="olga@x.example", languages=("uk",))
LENA = Agent(person="Lena", email="lena@x.example", languages=("en",), lead=True)


def on_call(*agents: Agent) -> list[OnCall]:
    return [
        OnCall(agent=a, shift_ends_at=NOW + timedelta(hours=4), position=i)
        for i, a in enumerate(agents)
    ]


def new(**changes: object) -> NewCase:
    fields: dict[str, object] = {
        "origin": "patient",
        "category": "transfer",
        "priority": "normal",
        "language": "uk",
        "message": "…",
    }
    return NewCase(**(fields | changes))  # type: ignore[arg-type]


def case(language: str = "uk") -> Case:
    return Case(
        id=uuid.uuid4(),
        origin="patient",
        inquiry_id=None,
        booking_id=None,
        partner_id=None,
        category="transfer",
        priority="urgent",
        language=language,
        status="open",
        assignee="Ivan",
        escalate_at=NOW,
        resolve_by=NOW + timedelta(hours=1),
        opened_at=NOW - timedelta(minutes=5),
        acknowledged_at=None,
        resolved_at=None,
        acknowledge_breached=False,
        resolve_breached=False,
        erased_at=None,
    )


def opened(case: NewCase, *agents: Agent) -> routing.Opened:
    return routing.open_case(
        case,
        on_call=on_call(*agents),
        policy=POLICY,
        now=NOW,
        emergency_number="112",
        clinic_phone=None,
    )


def test_a_case_goes_to_the_first_on_call_who_speaks_its_language() -> None:
    decided = opened(new(language="uk"), DANA, IVAN, OLGA)
    assert decided.assignee == IVAN
    assert not decided.interpreter
    assert decided.escalate_at == NOW + timedelta(seconds=300)
    assert decided.resolve_by == NOW + timedelta(seconds=3600)


def test_nobody_speaking_the_language_asks_for_an_interpreter_and_says_so() -> None:
    decided = opened(new(language="ar"), DANA, IVAN)
    assert decided.assignee == DANA
    assert decided.interpreter
    assert "interpreter_requested" in [e.kind for e in decided.timeline]


def test_nobody_on_call_still_opens_the_case_with_its_deadline() -> None:
    decided = opened(new())
    assert decided.assignee is None
    assert decided.escalate_at is not None
    assert decided.interpreter


@pytest.mark.parametrize("origin", ["system", "partner"])
def test_a_case_nobody_speaks_in_asks_for_no_interpreter(origin: str) -> None:
    # An unassigned interpreter booking opens a system case: asking for another interpreter
    # there would book, fail and open cases without end.
    for decided in (opened(new(origin=origin, language="ar"), DANA), opened(new(origin=origin))):
        assert not decided.interpreter
        assert "interpreter_requested" not in [e.kind for e in decided.timeline]


def test_a_coordinator_on_the_phone_gets_an_interpreter_like_the_patient() -> None:
    assert opened(new(origin="coordinator", language="ar"), DANA).interpreter


def test_a_medical_case_is_urgent_and_answered_at_once() -> None:
    decided = opened(new(category="medical", priority="normal", language="de"), DANA)
    assert decided.priority == "urgent"
    assert decided.auto_answer is not None
    assert "112" in decided.auto_answer
    assert "Notfall" in decided.auto_answer
    assert "auto_answered" in [e.kind for e in decided.timeline]
    assert opened(new(category="billing"), DANA).auto_answer is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_emergency_answer_names_112_and_the_clinic_when_known(language: str) -> None:
    with_clinic = emergency_answer(language, emergency_number="112", clinic_phone="+49 69 1")
    assert "112" in with_clinic
    assert "+49 69 1" in with_clinic
    assert "+49 69 1" not in emergency_answer(language, emergency_number="112", clinic_phone=None)


def test_an_unknown_language_gets_the_english_answer() -> None:
    assert emergency_answer("fi", emergency_number="112", clinic_phone=None) == emergency_answer(
        "en", emergency_number="112", clinic_phone=None
    )


def test_escalation_goes_to_the_next_on_call_not_yet_tried_speakers_first_then_the_lead() -> None:
    rota = on_call(IVAN, DANA, OLGA)
    first = routing.escalate(case(), ["Ivan"], on_call=rota, leads=[LENA], policy=POLICY, now=NOW)
    assert first is not None
    assert (first.to, first.level) == (OLGA, "agent")  # speaks uk, before Dana
    assert first.acknowledge_by == NOW + timedelta(seconds=300)
    second = routing.escalate(
        case(), ["Ivan", "Olga"], on_call=rota, leads=[LENA], policy=POLICY, now=NOW
    )
    assert second is not None
    assert (second.to, second.level) == (DANA, "agent")
    last = routing.escalate(
        case(), ["Ivan", "Olga", "Dana"], on_call=rota, leads=[LENA], policy=POLICY, now=NOW
    )
    assert last is not None
    assert (last.to, last.level) == (LENA, "lead")
    assert last.acknowledge_by is None  # nobody after the lead
    assert (
        routing.escalate(
            case(),
            ["Ivan", "Olga", "Dana", "Lena"],
            on_call=rota,
            leads=[LENA],
            policy=POLICY,
            now=NOW,
        )
        is None
    )


def test_a_lead_on_call_is_tried_once() -> None:
    rota = on_call(IVAN, LENA)
    step = routing.escalate(case(), ["Ivan"], on_call=rota, leads=[LENA], policy=POLICY, now=NOW)
    assert step is not None
    assert step.to == LENA
    assert routing.escalation_chain(case(), ["Ivan", "Lena"], rota, [LENA]) == []
