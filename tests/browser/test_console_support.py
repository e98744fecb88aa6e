"""The console's support desk in a real browser against the whole local stack: a patient opens a
support case with their inquiry's access token, as the widget's follow-up would; the stack's
support agent sees it in the queue with its time left and who is on call, opens its thread,
replies, acknowledges and resolves it; a case the patient wrote in meanwhile is shown as
changed, not resolved blind; a coordinator is refused the desk; axe-core finds no serious
violation. Screenshots of every page in the test's folder."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Steps
from tests.browser.test_accessibility import violations
from tests.browser.test_console import sign_in
from tests.browser.test_widget import submit_by_api

pytestmark = pytest.mark.browser

AGENT = "local-support_agent"


def staff(stack: dict[str, Any], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack['credentials']['staff'][role]}"}


@pytest.fixture
def support(site_stack: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site_stack["services"]["support"], timeout=10) as client:
        yield client


@pytest.fixture
def on_call(site_stack: dict[str, Any], support: httpx.Client) -> None:
    """The stack's support agent (English and German) on call for the next hour, put on the
    rota by a coordinator as the desk's API has them do it."""
    coordinator = staff(site_stack, "coordinator")
    answer = support.put(
        f"/v1/support/agents/{AGENT}",
        json={"email": "support@carebridge.example", "languages": ["en", "de"], "lead": True},
        headers=coordinator,
    )
    assert answer.status_code == 200, answer.text
    # The rota replaces the shifts starting in the period: one anchored to the hour makes every
    # test's PUT replace the last one's shift instead of adding another.
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    period = {"starts_at": hour.isoformat(), "ends_at": (hour + timedelta(hours=1)).isoformat()}
    shift = {
        "person": AGENT,
        "starts_at": hour.isoformat(),
        "ends_at": (hour + timedelta(hours=3)).isoformat(),
        "position": 0,
    }
    answer = support.put("/v1/support/rota", json=period | {"shifts": [shift]}, headers=coordinator)
    assert answer.status_code == 200, answer.text


def open_case_as_patient(stack: dict[str, Any], support: httpx.Client) -> dict[str, Any]:
    """A new inquiry's patient, abroad, writes to the desk in Ukrainian with their access
    token: nobody on call speaks it, so the desk asks for an interpreter."""
    with httpx.Client(base_url=stack["services"]["inquiries"], timeout=10) as inquiries:
        submitted = submit_by_api(inquiries, stack)
    answer = support.post(
        "/v1/support/cases",
        json={
            "inquiry_id": submitted["id"],
            "category": "transfer",
            "priority": "urgent",
            "language": "uk",
            "message": "Водія немає в аеропорту.",
        },
        headers={"Authorization": f"Bearer {submitted['access_token']}"},
    )
    assert answer.status_code == 201, answer.text
    patient = {"Authorization": f"Bearer {submitted['access_token']}"}
    return {"case": answer.json(), "patient": patient}


def test_a_support_agent_replies_to_acknowledges_and_resolves_a_patients_case(
    site_stack: dict[str, Any],
    support: httpx.Client,
    on_call: None,
    steps: Steps,
    axe_source: str,
) -> None:
    opened = open_case_as_patient(site_stack, support)
    case_id = opened["case"]["id"]
    page = sign_in(steps, site_stack, "support_agent")
    expect(page.get_by_role("heading", name="Support queue", level=1)).to_be_visible()
    expect(page.locator("table[data-on-call] tbody tr")).to_have_count(1)
    expect(page.locator("table[data-on-call]")).to_contain_text(AGENT)
    row = page.locator(f"[data-support-case='{case_id}']")
    # Urgent: 15 minutes to acknowledge by default, counted down in plain words.
    expect(row.locator("[data-time-left]")).to_have_text(re.compile(r"^1[0-5] min left$"))
    expect(row).to_contain_text("urgent")
    page.get_by_label("Priority").select_option("normal")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(f"[data-support-case='{case_id}']")).to_have_count(0)
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_role("button", name="Filter").click()
    steps.shot("support-queue")
    assert violations(page, axe_source) == []

    page.get_by_role("link", name=case_id[:8]).click()
    expect(page.locator("[data-support-status]")).to_have_text("open")
    expect(page.locator("[data-message=patient]")).to_contain_text("Водія немає в аеропорту.")
    expect(page.locator("[data-interpreter]")).to_contain_text("nobody on call speaks uk")
    expect(page.locator("[data-escalation]")).to_have_text("Not escalated.")
    steps.shot("support-case")
    assert violations(page, axe_source) == []

    page.get_by_label("Your reply").fill("We are calling the driver now.")
    page.get_by_role("button", name="Send reply").click()
    agent_says = page.locator("[data-message=agent]")
    expect(agent_says).to_contain_text("We are calling the driver now.")
    expect(agent_says).to_contain_text(AGENT)
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("[data-support-status]")).to_have_text("acknowledged")
    expect(page.locator("[data-time-left]")).to_contain_text("left")
    steps.shot("acknowledged")

    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("[data-support-status]")).to_have_text("resolved")
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    steps.shot("resolved")

    # What the patient sees: the agent's answer, and the case closed by the agent.
    seen = support.get(f"/v1/support/cases/{case_id}", headers=opened["patient"]).json()
    assert seen["status"] == "resolved"
    assert [m["author"] for m in seen["messages"]] == ["patient", "agent"]
    assert [e["person"] for e in seen["timeline"] if e["kind"] == "resolved"] == [AGENT]
    page.goto(site_stack["console"] + "/support")
    expect(page.locator(f"[data-support-case='{case_id}']")).to_have_count(0)


def test_a_case_changed_meanwhile_is_shown_as_changed_and_not_acted_on(
    site_stack: dict[str, Any], support: httpx.Client, on_call: None, steps: Steps
) -> None:
    opened = open_case_as_patient(site_stack, support)
    case_id = opened["case"]["id"]
    page = sign_in(steps, site_stack, "support_agent")
    page.goto(f"{site_stack['console']}/support/cases/{case_id}")
    expect(page.locator("[data-support-status]")).to_have_text("open")
    # Another agent (here an admin) takes the case while this page is open.
    taken = support.post(
        f"/v1/support/desk/cases/{case_id}/acknowledge", headers=staff(site_stack, "admin")
    )
    assert taken.status_code == 200, taken.text
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("[data-refusal=changed]")).to_contain_text(
        "Someone changed this case; reload"
    )
    steps.shot("acknowledged-elsewhere")

    # The patient writes again while the page is open: resolving now would close a case on a
    # message nobody read.
    page.goto(f"{site_stack['console']}/support/cases/{case_id}")
    wrote = support.post(
        f"/v1/support/cases/{case_id}/messages",
        json={"message": "Він щойно приїхав."},
        headers=opened["patient"],
    )
    assert wrote.status_code == 204, wrote.text
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("[data-refusal=changed]")).to_be_visible()
    steps.shot("written-meanwhile")

    seen = support.get(f"/v1/support/cases/{case_id}", headers=opened["patient"]).json()
    assert seen["status"] == "acknowledged"
    assert [e["person"] for e in seen["timeline"] if e["kind"] == "acknowledged"] == ["local-admin"]
    page.goto(f"{site_stack['console']}/support/cases/{case_id}")
    expect(page.locator("[data-message=patient]").nth(1)).to_contain_text("Він щойно приїхав.")


@pytest.fixture
def quick_urgent_target(site_stack: dict[str, Any], support: httpx.Client) -> Iterator[None]:
    """Urgent cases to be acknowledged within a second, and a lead off the rota to escalate to;
    the default target is put back after the test."""
    coordinator = staff(site_stack, "coordinator")
    answer = support.put(
        "/v1/support/agents/local-admin",
        json={"email": "lead@carebridge.example", "languages": ["en"], "lead": True},
        headers=coordinator,
    )
    assert answer.status_code == 200, answer.text

    def target(seconds: int) -> None:
        answer = support.put(
            "/v1/support/policies/urgent",
            json={"acknowledge_within_seconds": seconds, "resolve_within_seconds": 86400},
            headers=coordinator,
        )
        assert answer.status_code == 200, answer.text

    target(1)
    try:
        yield
    finally:
        target(900)


def test_a_case_missing_its_target_reads_overdue_first_in_the_queue_and_shows_its_escalation(
    site_stack: dict[str, Any],
    support: httpx.Client,
    on_call: None,
    quick_urgent_target: None,
    steps: Steps,
) -> None:
    opened = open_case_as_patient(site_stack, support)
    case_id = opened["case"]["id"]
    deadline = time.monotonic() + 15
    while True:
        view = support.get(f"/v1/support/cases/{case_id}", headers=opened["patient"]).json()
        if any(e["kind"] == "escalated" for e in view["timeline"]) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    page = sign_in(steps, site_stack, "support_agent")
    first = page.locator("tbody tr[data-support-case]").first
    expect(first).to_have_attribute("data-support-case", case_id)
    expect(first.locator("[data-time-left]")).to_have_text("overdue by 1 min")
    steps.shot("support-queue-overdue")
    first.get_by_role("link").click()
    expect(page.locator("[data-escalation]")).to_contain_text("Escalated to local-admin (lead)")
    steps.shot("support-case-escalated")
    # A filter the queue does not have is refused plainly, not ignored.
    response = page.goto(site_stack["console"] + "/support?priority=soon")
    assert response is not None
    assert response.status == 400
    expect(page.locator("[data-refusal=refused]")).to_be_visible()
    expect(page.get_by_text("no priority 'soon'")).to_be_visible()


def test_a_coordinator_has_no_support_link_and_is_refused_the_desk(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    page = sign_in(steps, site_stack, "coordinator")
    expect(page.get_by_role("heading", name="Case inbox")).to_be_visible()
    expect(page.get_by_role("link", name="Support desk")).to_have_count(0)
    response = page.goto(site_stack["console"] + "/support")
    assert response is not None
    assert response.status == 403
    expect(page.locator("[data-refusal=not_allowed]")).to_be_visible()
    steps.shot("support-not-allowed")


def test_the_support_queue_speaks_german(
    site_stack: dict[str, Any], on_call: None, steps: Steps, axe_source: str
) -> None:
    page = steps.page
    page.goto(site_stack["console"] + "/sign-in")
    page.get_by_label("Staff token").fill(site_stack["credentials"]["staff"]["support_agent"])
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Support-Warteschlange", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Support", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Jetzt in Bereitschaft")).to_be_visible()
    steps.shot("support-queue-de")
    assert violations(page, axe_source) == []
