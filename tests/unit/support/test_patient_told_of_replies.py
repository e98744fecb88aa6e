"""Which replies in the thread the patient is told of: an agent's, in a case they follow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec

from contracts.support import CaseReplied
from services.support.domain.model import Case
from services.support.domain.replies import patient_told

NOW = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
INQUIRY = uuid.uuid4()
CASE = Case(
    id=uuid.uuid4(),
    origin="patient",
    inquiry_id=INQUIRY,
    booking_id=None,
    partner_id=None,
    category="transfer",
    priority="urgent",
    language="uk",
    status="acknowledged",
    assignee="Dana Agent",
    escalate_at=None,
    resolve_by=NOW,
    opened_at=NOW,
    acknowledged_at=NOW,
    resolved_at=None,
    acknowledge_breached=False,
    resolve_breached=False,
    erased_at=None,
)


def test_an_agents_reply_in_the_patients_case_tells_them_with_ids_and_language_only() -> None:
    told = patient_told(CASE, "agent")
    assert told == CaseReplied(case_id=str(CASE.id), inquiry_id=str(INQUIRY), language="uk")


def test_a_case_a_coordinator_opened_for_the_patient_is_theirs_too() -> None:
    assert patient_told(msgspec.structs.replace(CASE, origin="coordinator"), "agent") is not None


def test_partner_and_system_cases_and_cases_without_an_inquiry_tell_nobody() -> None:
    assert patient_told(msgspec.structs.replace(CASE, origin="partner"), "agent") is None
    assert patient_told(msgspec.structs.replace(CASE, origin="system"), "agent") is None
    assert patient_told(msgspec.structs.replace(CASE, inquiry_id=None), "agent") is None


def test_the_patients_own_messages_and_the_systems_tell_nobody() -> None:
    assert patient_told(CASE, "patient") is None
    assert patient_told(CASE, "system") is None
    assert patient_told(CASE, "partner") is None
