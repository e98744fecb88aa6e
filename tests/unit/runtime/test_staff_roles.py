"""What each staff role may: admins everything, a lead coordinator what a coordinator may."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.runtime.access import staff


def principal(*roles: staff.Role) -> staff.Principal:
    return staff.Principal(token_id=uuid.uuid4(), person="P", roles=roles)


def test_a_lead_coordinator_may_what_a_coordinator_may_and_no_more() -> None:
    lead = principal("lead_coordinator")
    assert lead.may("coordinator")
    assert lead.may("lead_coordinator")
    assert not lead.may("editor")
    assert not lead.may("admin")
    assert not principal("coordinator").may("lead_coordinator")
    assert principal("admin").may("lead_coordinator")


@pytest.mark.parametrize("days", [0, -1, staff.MAX_TTL_DAYS + 1])
def test_a_token_lifetime_outside_its_bounds_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="1 to"):
        staff.check_ttl_days(days)


def test_lifetimes_and_grace_periods_within_bounds_are_whole_days_and_hours() -> None:
    assert staff.check_ttl_days(90) == timedelta(days=90)
    assert staff.hours(0) == timedelta(0)
    with pytest.raises(ValueError, match="0 to"):
        staff.hours(staff.MAX_GRACE_HOURS + 1)
