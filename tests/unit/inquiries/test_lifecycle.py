"""The inquiry lifecycle: every allowed transition passes, every other one is refused with the
states that are allowed from there."""

from __future__ import annotations

import itertools

import pytest

from contracts.inquiries import InquiryStatus
from services.inquiries.domain import STATUSES, TERMINAL, TRANSITIONS, check_transition
from services.runtime.errors import IllegalTransition

PAIRS = list(itertools.product(STATUSES, STATUSES))


@pytest.mark.parametrize(("current", "target"), [p for p in PAIRS if p[1] in TRANSITIONS[p[0]]])
def test_allowed_transitions_pass(current: InquiryStatus, target: InquiryStatus) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), [p for p in PAIRS if p[1] not in TRANSITIONS[p[0]]])
def test_every_other_transition_is_refused_naming_the_allowed_states(
    current: InquiryStatus, target: InquiryStatus
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_transition(current, target)

    assert refused.value.allowed == TRANSITIONS[current]
    assert current in refused.value.detail


def test_the_trade_path_runs_from_submission_to_completion() -> None:
    path: list[InquiryStatus] = [
        "submitted", "in_review", "records_requested", "in_review", "offer_sent", "offer_sent",
        "accepted", "confirmed", "in_treatment", "discharged", "completed",
    ]  # fmt: skip
    for current, target in itertools.pairwise(path):
        check_transition(current, target)


def test_closed_cases_allow_nothing() -> None:
    assert {"completed", "declined", "cancelled"} == TERMINAL
    assert set(TRANSITIONS) == set(STATUSES)
