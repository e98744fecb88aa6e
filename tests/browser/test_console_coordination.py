"""Coordinators and logistics in the console, in a real browser against the whole local stack:
the inbox's named views (updated in place by htmx, and the same links working with JavaScript
off), the assignee picker, a concurrent change shown with what changed (two browser contexts),
the offer's mistakes shown by field, a booking's own page and the partner registry. axe-core on
each new page; screenshots of each step."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import STEP_TIMEOUT_MS, Steps
from tests.browser.test_accessibility import violations
from tests.browser.test_console import WALK_DEADLINE, sign_in
from tests.browser.test_widget import submit_by_api
from tests.integration.inquiries.casefile import CASES, CONFIRMATION, offer

pytestmark = pytest.mark.browser


def bearer(stack: dict[str, Any], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack['credentials']['staff'][role]}"}


def api_step(
    client: httpx.Client, headers: dict[str, str], case_id: str, path: str, body: Any = None
) -> dict[str, Any]:
    """One step of the case through the inquiries API, on its current version."""
    version = client.get(f"{CASES}/{case_id}", headers=headers).json()["version"]
    answer = client.request(
        "PUT" if path == "coordinator" else "POST",
        f"{CASES}/{case_id}/{path}",
        json=body,
        headers={**headers, "If-Match": f'"{version}"'},
    )
    assert answer.status_code in (200, 201), answer.text
    found: dict[str, Any] = answer.json()
    return found


@pytest.fixture
def inquiries(site_stack: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site_stack["services"]["inquiries"], timeout=10) as client:
        yield client


@pytest.fixture
def no_script(browser: Browser, tmp_path: Path) -> Iterator[Steps]:
    """A second browser context with JavaScript off: the pages must work as plain HTML."""
    context = browser.new_context(
        viewport={"width": 1100, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    folder = tmp_path / "no-script"
    folder.mkdir()
    yield Steps(context.new_page(), folder)
    context.close()


def cases_in_each_view(stack: dict[str, Any], inquiries: httpx.Client) -> dict[str, str]:
    """A case for each view: new (unassigned), mine (claimed), waiting (records requested) and
    expiring (an offer that lapses in two days); their ids."""
    coordinator = bearer(stack, "coordinator")
    ids = {
        view: submit_by_api(inquiries, stack)["id"]
        for view in ("new", "mine", "waiting", "expiring")
    }
    for view in ("mine", "waiting", "expiring"):
        api_step(
            inquiries, coordinator, ids[view], "coordinator", {"coordinator": "local-coordinator"}
        )
        api_step(inquiries, coordinator, ids[view], "transitions", {"to": "in_review"})
    api_step(inquiries, coordinator, ids["waiting"], "transitions", {"to": "records_requested"})
    soon = datetime.now(UTC) + timedelta(days=2)
    api_step(inquiries, coordinator, ids["expiring"], "offers", offer(valid_until=soon))
    return ids


def test_inbox_views_update_in_place_with_htmx(
    site_stack: dict[str, Any], inquiries: httpx.Client, steps: Steps, axe_source: str
) -> None:
    ids = cases_in_each_view(site_stack, inquiries)
    page = sign_in(steps, site_stack, "coordinator")
    expect(page.get_by_role("heading", name="Case inbox")).to_be_visible()
    # A mark on the window survives only if the page is never loaded again.
    page.evaluate("window.kept = 'this page'")
    views = page.get_by_role("navigation", name="Inbox views")
    views.get_by_role("link", name="New").click()
    expect(page).to_have_url(f"{site_stack['console']}/inbox?view=new")
    expect(page.locator("[data-view-shown=new]")).to_be_visible()
    expect(page.get_by_role("link", name=ids["new"][:8])).to_be_visible()
    expect(page.get_by_role("link", name=ids["mine"][:8])).to_have_count(0)
    assert page.evaluate("window.kept") == "this page", "the view was a full page load"
    expect(views.get_by_role("link", name="New")).to_have_attribute("aria-current", "page")
    steps.shot("view-new")
    assert violations(page, axe_source) == []

    for view, name, hidden in (
        ("mine", "Mine", "new"),
        ("waiting", "Waiting on the patient", "mine"),
        ("expiring", "Offers expiring", "waiting"),
    ):
        views.get_by_role("link", name=name).click()
        expect(page.locator(f"[data-view-shown={view}]")).to_be_visible()
        expect(page.get_by_role("link", name=ids[view][:8])).to_be_visible()
        expect(page.get_by_role("link", name=ids[hidden][:8])).to_have_count(0)
        steps.shot(f"view-{view}")
    assert page.evaluate("window.kept") == "this page"
    # The URL holds the view: a reload (or a bookmark) shows the same cases.
    assert "view=expiring" in page.url
    page.reload()
    expect(page.get_by_role("link", name=ids["expiring"][:8])).to_be_visible()
    # The free filters too update in place.
    page.evaluate("window.kept = 'again'")
    views.get_by_role("link", name="All (filters)").click()
    page.get_by_label("Status").select_option("records_requested")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{site_stack['console']}/inbox?queue=&status=records_requested")
    expect(page.get_by_role("link", name=ids["waiting"][:8])).to_be_visible()
    assert page.evaluate("window.kept") == "again"
    views.get_by_role("link", name="Bookings unassigned").click()
    expect(page).to_have_url(f"{site_stack['console']}/bookings?status=unassigned")


def test_inbox_views_and_filters_work_without_javascript(
    site_stack: dict[str, Any], inquiries: httpx.Client, no_script: Steps
) -> None:
    ids = cases_in_each_view(site_stack, inquiries)
    plain = sign_in(no_script, site_stack, "coordinator")
    plain.get_by_role("navigation", name="Inbox views").get_by_role("link", name="New").click()
    expect(plain).to_have_url(f"{site_stack['console']}/inbox?view=new")
    expect(plain.get_by_role("link", name=ids["new"][:8])).to_be_visible()
    plain.get_by_role("link", name="Offers expiring").click()
    expect(plain.get_by_role("link", name=ids["expiring"][:8])).to_be_visible()
    no_script.shot("no-script-expiring")
    plain.get_by_role("link", name="All (filters)").click()
    plain.get_by_label("Status").select_option("records_requested")
    plain.get_by_role("button", name="Filter").click()
    expect(plain).to_have_url(f"{site_stack['console']}/inbox?queue=&status=records_requested")
    expect(plain.get_by_role("link", name=ids["waiting"][:8])).to_be_visible()
    plain.get_by_role("link", name=ids["waiting"][:8]).click()
    expect(plain.locator("[data-status]")).to_have_text("records_requested")
    no_script.shot("no-script-case")


def test_a_lead_picks_the_assignee_from_the_coordinators_the_api_knows(
    site_stack: dict[str, Any], inquiries: httpx.Client, steps: Steps
) -> None:
    claimed = submit_by_api(inquiries, site_stack)["id"]
    api_step(
        inquiries,
        bearer(site_stack, "coordinator"),
        claimed,
        "coordinator",
        {"coordinator": "local-coordinator"},
    )
    case_id = submit_by_api(inquiries, site_stack)["id"]
    page = sign_in(steps, site_stack, "lead_coordinator")
    page.goto(f"{site_stack['console']}/cases/{case_id}")
    picker = page.get_by_label("Assign to")
    expect(picker).to_have_attribute("list", "known-coordinators")
    suggested = page.locator("#known-coordinators option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    assert "local-coordinator" in suggested
    picker.fill("local-coordinator")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator("[data-coordinator]")).to_have_text("local-coordinator")
    steps.shot("assigned-by-lead")


def test_a_concurrent_change_is_shown_with_what_changed_and_changes_nothing(
    site_stack: dict[str, Any],
    inquiries: httpx.Client,
    browser: Browser,
    steps: Steps,
    axe_source: str,
) -> None:
    case_id = submit_by_api(inquiries, site_stack)["id"]
    url = f"{site_stack['console']}/cases/{case_id}"
    first = sign_in(steps, site_stack, "coordinator")
    first.goto(url)
    # A second person, in a browser context of their own, opens the same case meanwhile.
    other = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        second = other.new_page()
        second.goto(site_stack["console"] + "/sign-in")
        second.get_by_label("Staff token").fill(site_stack["credentials"]["staff"]["coordinator"])
        second.get_by_role("button", name="Sign in").click()
        second.goto(url)
        second.get_by_label("Assign to").fill("local-coordinator")
        second.get_by_role("button", name="Assign", exact=True).click()
        expect(second.locator("[data-coordinator]")).to_have_text("local-coordinator")
        second.get_by_label("Move to").select_option("in_review")
        second.get_by_role("button", name="Change status").click()
        expect(second.locator("[data-status]")).to_have_text("in_review")
    finally:
        other.close()
    before = inquiries.get(f"{CASES}/{case_id}", headers=bearer(site_stack, "coordinator")).json()

    # The first page still shows version 1: its change is refused and the page says what moved.
    first.get_by_label("Move to").select_option("declined")
    first.get_by_label("Reason (optional)").fill("no capacity")
    first.get_by_role("button", name="Change status").click()
    expect(first.locator("[data-refusal=changed]")).to_contain_text(
        "Someone changed this case; here is what changed"
    )
    status = first.locator("tr[data-change=status]")
    expect(status).to_contain_text("submitted")
    expect(status).to_contain_text("in_review")
    expect(first.locator("tr[data-change=coordinator]")).to_contain_text("local-coordinator")
    expect(first.locator("tr[data-change=timeline]")).to_contain_text("assigned")
    expect(first.locator("tr[data-change=timeline]")).to_contain_text("status_changed in_review")
    steps.shot("what-changed")
    assert violations(first, axe_source) == []
    after = inquiries.get(f"{CASES}/{case_id}", headers=bearer(site_stack, "coordinator")).json()
    assert (after["version"], after["status"]) == (before["version"], "in_review")
    first.get_by_role("link", name="Open the case as it is now").click()
    expect(first.locator("[data-status]")).to_have_text("in_review")


def test_the_offers_mistakes_are_shown_by_field_and_nothing_is_sent(
    site_stack: dict[str, Any], inquiries: httpx.Client, steps: Steps, axe_source: str
) -> None:
    coordinator = bearer(site_stack, "coordinator")
    case_id = submit_by_api(inquiries, site_stack)["id"]
    api_step(inquiries, coordinator, case_id, "coordinator", {"coordinator": "local-coordinator"})
    api_step(inquiries, coordinator, case_id, "transitions", {"to": "in_review"})
    page = sign_in(steps, site_stack, "coordinator")
    page.goto(f"{site_stack['console']}/cases/{case_id}")
    values = {
        "Programme": "Mitral valve repair",
        "Clinic": "Kerckhoff-Klinik, Bad Nauheim",
        "Physician": "Prof. Dr. med. A. Weber",
        "Procedures (one a line)": "mitral valve repair",
        "Length of stay (days)": "10",
        "Cost items (one a line: description: amount)": "diagnostics: 1500.00\nsurgery: 20000.00",
        "Total (EUR)": "21500.00",
        "Advance (EUR)": "25000.00",
        "Valid until (clinic time)": "2027-01-31T23:59",
    }
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Send offer").click()
    expect(page.locator("[data-refusal=form_refused]")).to_be_visible()
    advance = page.get_by_label("Advance (EUR)", exact=True)
    expect(page.locator("[data-problem=advance]")).to_have_text("advance exceeds the total")
    expect(advance).to_have_attribute("aria-invalid", "true")
    expect(advance).to_have_attribute("aria-describedby", "advance-problem")
    # What was entered is kept, the other fields unmarked.
    expect(page.get_by_label("Programme", exact=True)).to_have_value("Mitral valve repair")
    expect(page.get_by_label("Cost items (one a line: description: amount)")).to_have_value(
        "diagnostics: 1500.00\nsurgery: 20000.00"
    )
    expect(page.locator("[aria-invalid]")).to_have_count(1)
    steps.shot("offer-mistake-by-field")
    assert violations(page, axe_source) == []
    case = inquiries.get(f"{CASES}/{case_id}", headers=coordinator).json()
    assert (case["status"], case["offers"]) == ("in_review", [])

    advance.fill("5000.00")
    page.get_by_role("button", name="Send offer").click()
    expect(page.locator("[data-status]")).to_have_text("offer_sent")


def booked(logistics: httpx.Client, headers: dict[str, str], case_id: str) -> dict[str, Any]:
    """The case's transfer once a partner has confirmed it (the reference partners answer on
    their own)."""
    deadline = time.monotonic() + WALK_DEADLINE
    while True:
        items = logistics.get("/v1/bookings", params={"inquiry_id": case_id}, headers=headers)
        done: list[dict[str, Any]] = [
            b
            for b in items.json()["items"]
            if b["kind"] == "transfer" and b["status"] in ("confirmed", "in_progress", "completed")
        ]
        if done:
            return done[0]
        assert time.monotonic() < deadline, f"no confirmed transfer: {items.text}"
        time.sleep(0.5)


def test_a_booking_shows_its_partner_history_and_what_was_shared_and_links_to_the_registry(
    site_stack: dict[str, Any], inquiries: httpx.Client, steps: Steps, axe_source: str
) -> None:
    coordinator = bearer(site_stack, "coordinator")
    case_id = submit_by_api(inquiries, site_stack)["id"]
    api_step(inquiries, coordinator, case_id, "coordinator", {"coordinator": "local-coordinator"})
    api_step(inquiries, coordinator, case_id, "transitions", {"to": "in_review"})
    api_step(inquiries, coordinator, case_id, "offers", offer())
    api_step(inquiries, coordinator, case_id, "offers/1/accept")
    api_step(inquiries, coordinator, case_id, "confirmation", copy.deepcopy(CONFIRMATION))
    with httpx.Client(base_url=site_stack["services"]["logistics"], timeout=10) as logistics:
        transfer = booked(logistics, coordinator, case_id)

    page = sign_in(steps, site_stack, "coordinator")
    page.goto(f"{site_stack['console']}/cases/{case_id}")
    page.locator(f"a[href='/bookings/{transfer['id']}']").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("transfer")
    partner = page.locator("[data-partner]")
    expect(partner).to_have_attribute("data-partner", transfer["partner_id"])
    shared = page.locator("[data-shared]")
    expect(shared).to_contain_text("LH1491")
    expect(shared).to_contain_text("Arrivals hall B, exit 3")
    history = page.locator("[data-history] tbody tr")
    expect(history.first).to_be_visible()
    assert history.count() >= 2  # created and offered at least, then the partner's answer
    expect(page.locator(f"tr[data-offer='{transfer['partner_id']}']").first).to_be_visible()
    steps.shot("booking")
    assert violations(page, axe_source) == []

    page.get_by_role("main").get_by_role("link", name="Partners").click()
    expect(page.get_by_role("heading", name="Partners")).to_be_visible()
    row = page.locator(f"tr[data-partner='{transfer['partner_id']}']")
    expect(row).to_contain_text("transfer")
    channels = set(
        page.locator("tr[data-partner]").evaluate_all("rows => rows.map(r => r.dataset.channel)")
    )
    assert channels <= {"nats", "webhook"}
    assert channels
    steps.shot("partners")
    assert violations(page, axe_source) == []
    page.get_by_label("Kind").select_option("interpreter")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{site_stack['console']}/partners?kind=interpreter")
    kinds = page.locator("tr[data-partner] td:nth-child(2)").all_inner_texts()
    assert kinds
    assert all("interpreter" in k for k in kinds)


def test_the_case_timeline_refreshes_in_place(
    site_stack: dict[str, Any], inquiries: httpx.Client, steps: Steps, no_script: Steps
) -> None:
    coordinator = bearer(site_stack, "coordinator")
    case_id = submit_by_api(inquiries, site_stack)["id"]
    page = sign_in(steps, site_stack, "coordinator")
    page.goto(f"{site_stack['console']}/cases/{case_id}")
    entries = page.locator("[data-timeline] li")
    expect(entries).to_have_count(1)
    page.evaluate("window.kept = 'case page'")
    api_step(inquiries, coordinator, case_id, "coordinator", {"coordinator": "local-coordinator"})
    page.get_by_role("link", name="Refresh the case's progress").click()
    expect(entries).to_have_count(2)
    expect(entries.last).to_contain_text("assigned")
    assert page.evaluate("window.kept") == "case page", "the refresh reloaded the whole page"
    steps.shot("timeline-refreshed")

    # Without JavaScript the same link reloads the page, with the same timeline.
    plain = sign_in(no_script, site_stack, "coordinator")
    plain.goto(f"{site_stack['console']}/cases/{case_id}")
    plain.get_by_role("link", name="Refresh the case's progress").click()
    expect(plain.locator("[data-timeline] li")).to_have_count(2)


def test_a_refusal_during_a_partial_update_is_shown_and_an_ended_session_signs_in_again(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    page = sign_in(steps, site_stack, "coordinator")
    expect(page.get_by_role("heading", name="Case inbox")).to_be_visible()
    # A view the console does not know, asked for as the tabs ask (htmx, swapping the region):
    # the refusal replaces the page's main part instead of being dropped.
    page.evaluate(
        """htmx.ajax('GET', '/inbox?view=everything',
                     {target: '#inbox-view', select: '#inbox-view', swap: 'outerHTML'})"""
    )
    expect(page.locator("[data-refusal=refused]")).to_be_visible()
    expect(page.get_by_text("no inbox view 'everything'")).to_be_visible()
    steps.shot("refused-in-place")
    # The session ends (the cookie is gone): the next partial update goes to the sign-in page.
    page.goto(site_stack["console"] + "/inbox")
    page.context.clear_cookies()
    page.get_by_role("navigation", name="Inbox views").get_by_role("link", name="New").click()
    expect(page).to_have_url(site_stack["console"] + "/sign-in?expired=1")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_apis_refusal_of_a_confirmation_field_is_shown_beside_it_with_the_form_kept(
    site_stack: dict[str, Any], inquiries: httpx.Client, steps: Steps, axe_source: str
) -> None:
    coordinator = bearer(site_stack, "coordinator")
    case_id = submit_by_api(inquiries, site_stack)["id"]
    api_step(inquiries, coordinator, case_id, "coordinator", {"coordinator": "local-coordinator"})
    api_step(inquiries, coordinator, case_id, "transitions", {"to": "in_review"})
    api_step(inquiries, coordinator, case_id, "offers", offer())
    api_step(inquiries, coordinator, case_id, "offers/1/accept")
    page = sign_in(steps, site_stack, "coordinator")
    page.goto(f"{site_stack['console']}/cases/{case_id}")
    for label, value in {
        "Amount (EUR)": "5000.00",
        "Paid or issued on": "2026-11-20",
        "Payment reference": "SEPA-2026-11-0042",
        "Payer's name": "Taras Kovalenko",
        # Not a flight number: only the API knows its pattern, and names the field.
        "Arrival flight": "lh 1491",
        "Airport (IATA)": "FRA",
        "Scheduled arrival (clinic time)": "2027-02-01T14:35",
        "Clinic name": "Kerckhoff-Klinik",
        "Clinic address": "Benekestr. 2-8, 61231 Bad Nauheim",
        "Admission": "2027-02-02",
        "Planned discharge": "2027-02-12",
    }.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Payer", exact=True).select_option("relative")
    page.get_by_label("Book an airport transfer").check()
    page.get_by_role("button", name="Confirm with travel plan").click()

    expect(page.locator("[data-refusal=form_refused]")).to_be_visible()
    expect(page.locator("[data-problem=flight_number]")).to_be_visible()
    expect(page.get_by_label("Arrival flight", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    # What was entered is kept: text, choices and ticks.
    expect(page.get_by_label("Payment reference", exact=True)).to_have_value("SEPA-2026-11-0042")
    expect(page.get_by_label("Payer", exact=True)).to_have_value("relative")
    expect(page.get_by_label("Book an airport transfer")).to_be_checked()
    steps.shot("confirmation-refused-by-field")
    assert violations(page, axe_source) == []
    case = inquiries.get(f"{CASES}/{case_id}", headers=coordinator).json()
    assert case["status"] == "accepted"

    page.get_by_label("Arrival flight", exact=True).fill("LH1491")
    page.get_by_role("button", name="Confirm with travel plan").click()
    expect(page.locator("[data-status]")).to_have_text("confirmed")
