"""What a case's timeline says of logistics' answer to its request for an interpreter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from contracts.logistics import InterpreterRequestAnswered
from services.support.domain.interpreters import answered

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def answer(**fields: object) -> InterpreterRequestAnswered:
    return InterpreterRequestAnswered(
        case_id=str(uuid.uuid4()),
        inquiry_id=str(uuid.uuid4()),
        answered_at=NOW,
        **fields,  # type: ignore[arg-type]
    )


def test_a_booked_interpreter_is_named_with_the_session_time() -> None:
    entry = answered(
        answer(
            outcome="booked",
            partner_id="lingua",
            partner_name="Lingua GmbH",
            session_at=datetime(2027, 2, 1, 10, 15, tzinfo=timezone(timedelta(hours=1))),
        )
    )
    assert entry.kind == "interpreter_booked"
    assert (
        entry.detail == "interpreter booked: Lingua GmbH, phone session at 2027-02-01T10:15+01:00"
    )


def test_none_available_and_refusals_say_so_plainly() -> None:
    assert answered(answer(outcome="unavailable")).detail.startswith("no interpreter available")
    no_consent = answered(answer(outcome="refused", reason="no_consent"))
    assert no_consent.kind == "interpreter_not_booked"
    assert "has not consented to sharing" in no_consent.detail
    no_inquiry = answered(answer(outcome="refused", reason="no_inquiry"))
    assert "has no inquiry" in no_inquiry.detail
