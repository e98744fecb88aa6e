"""The inbox's named views as the inquiries API's filters, and what changed in a case between
the page a form was made from and the case as it now is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.console.domain.coordination import VIEWS, Change, changes, inbox_view, seen_of
from services.console.domain.forms import FormProblem

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


def test_each_view_is_a_filter_of_the_list_and_an_unknown_one_is_none() -> None:
    assert {v: inbox_view(v, NOW).params for v in VIEWS if v != "expiring"} == {  # type: ignore[union-attr]
        "new": {"status": "submitted", "unassigned": "true"},
        "mine": {"mine": "true"},
        "waiting": {"status": "records_requested"},
    }
    expiring = inbox_view("expiring", NOW)
    assert expiring is not None
    assert expiring.params == {
        "status": "offer_sent",
        "offer_expires_before": "2026-12-12T03:00:00+00:00",
    }
    # The next page keeps the first page's horizon.
    kept = inbox_view("expiring", NOW, "2026-12-10T00:00:00+00:00")
    assert kept is not None
    assert kept.params["offer_expires_before"] == "2026-12-10T00:00:00+00:00"
    assert inbox_view("everything", NOW) is None


CASE: dict[str, Any] = {
    "status": "submitted",
    "coordinator": None,
    "offers": [],
    "timeline": [{"at": "2026-12-05T02:00:00+00:00", "kind": "submitted", "detail": {}}],
    "notes": [],
}


def test_nothing_changed_when_the_case_is_as_the_page_showed_it() -> None:
    assert changes(seen_of(CASE), CASE) == []


def test_the_status_coordinator_and_entries_added_since_are_what_changed() -> None:
    seen = seen_of(CASE)
    now = {
        **CASE,
        "status": "in_review",
        "coordinator": "Carla",
        "timeline": [
            *CASE["timeline"],
            {
                "at": "2026-12-05T02:10:00+00:00",
                "kind": "assigned",
                "detail": {"coordinator": "Carla"},
            },
            {
                "at": "2026-12-05T02:11:00+00:00",
                "kind": "status_changed",
                "detail": {"to": "in_review"},
            },
        ],
        "notes": [{"author": "Carla", "text": "called"}],
    }
    assert changes(seen, now) == [
        Change(what="status", before="submitted", after="in_review"),
        Change(what="coordinator", before="", after="Carla"),
        Change(
            what="timeline",
            added=[
                "2026-12-05 02:10:00 assigned Carla",
                "2026-12-05 02:11:00 status_changed in_review",
            ],
        ),
        Change(what="notes", added=["Carla: called"]),
    ]


def test_a_form_without_what_its_page_showed_reports_nothing_it_cannot_know() -> None:
    assert changes({"seen_status": "bogus", "seen_timeline": "x"}, CASE) == [
        Change(what="status", before="bogus", after="submitted")
    ]


def test_a_form_problem_names_its_field() -> None:
    assert FormProblem("total is 1 but the items add up to 2").field == "total"
    assert FormProblem("items: 'x' is not 'description: amount'").field == "items"
