"""Which cases a coordinator sees, and who may assign a case to whom: decided by the domain."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.inquiries.domain import casework
from services.inquiries.domain.model import Case
from services.runtime.core.errors import Invalid

NOW = datetime(2026, 12, 5, 9, tzinfo=UTC)


def case(coordinator: str | None) -> Case:
    return Case(id=uuid.UUID(int=7), status="submitted", version=2, coordinator=coordinator)


@pytest.mark.parametrize(
    ("assigned", "viewer", "visible"),
    [
        ("Carla", "Carla", True),
        (None, "Carla", True),
        ("Dmytro", "Carla", False),
        ("Dmytro", None, True),
        (None, None, True),
    ],
)
def test_a_coordinator_sees_their_own_cases_and_the_queue_a_lead_sees_all(
    assigned: str | None, viewer: str | None, visible: bool
) -> None:
    assert casework.visible_to(assigned, viewer) is visible


def test_a_coordinator_claims_or_releases_a_case() -> None:
    claimed = casework.assign(case(None), "Carla", by="Carla", now=NOW, viewer="Carla")
    assert claimed.case.coordinator == "Carla"
    released = casework.assign(case("Carla"), None, by="Carla", now=NOW, viewer="Carla")
    assert released.case.coordinator is None


def test_only_a_lead_assigns_a_case_to_someone_else() -> None:
    with pytest.raises(Invalid) as refused:
        casework.assign(case(None), "Dmytro", by="Carla", now=NOW, viewer="Carla")
    assert refused.value.problems[0].field == "coordinator"
    assert "lead_coordinator" in refused.value.problems[0].message
    given = casework.assign(case(None), "Dmytro", by="Lea", now=NOW, viewer=None)
    assert given.case.coordinator == "Dmytro"
