"""The console's admin pages in a real browser against the whole local stack: an admin issues
a staff token that then signs in, rotates it (the old one refused after a grace of 0 hours) and
revokes it (refused); issues an API key that the content API accepts and, once revoked, refuses;
the audit log shows those changes; a retention dry run and run; bad input is refused plainly
and changes nothing; a
coordinator is refused every admin page by the API; German navigation; axe-core on each page;
screenshots of every step in the test's folder."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import STEP_TIMEOUT_MS, Steps
from tests.browser.test_accessibility import violations
from tests.browser.test_console import sign_in

pytestmark = pytest.mark.browser

ADMIN_PAGES = ("/admin/staff-tokens", "/admin/api-keys", "/admin/audit", "/admin/retention")
# API keys are looked up in a snapshot refreshed every API_KEY_REFRESH seconds (5 on the stack).
KEY_DEADLINE = 20.0


def sign_in_with(page: Page, console: str, token: str) -> None:
    page.goto(console + "/sign-in")
    page.get_by_label("Staff token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def issued_secret(page: Page) -> tuple[str, str]:
    """The secret the page shows once, and the id of what it belongs to."""
    field = page.get_by_label("The new secret, shown this once")
    expect(field).to_be_visible()
    return field.input_value(), str(field.get_attribute("data-secret"))


def key_status(content_url: str, key: str) -> int:
    return httpx.get(
        content_url + "/v1/conditions", headers={"X-API-Key": key}, timeout=10
    ).status_code


def wait_for_status(content_url: str, key: str, wanted: int) -> None:
    deadline = time.monotonic() + KEY_DEADLINE
    while (status := key_status(content_url, key)) != wanted and time.monotonic() < deadline:
        time.sleep(0.5)
    assert status == wanted


def audit_shows_the_token_changes(page: Page, first_id: str, second_id: str) -> None:
    """The audit log of the service the console manages tokens on: issued, rotated, revoked."""
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    page.get_by_label("Route").fill("/admin/staff-tokens/{token_id}/revoke")
    page.get_by_role("button", name="Filter").click()
    revoked = page.locator("tr[data-entry]", has_text=f"token_id={second_id}")
    expect(revoked).to_have_attribute("data-status", "204")
    page.get_by_label("Route").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-entry]", has_text=f"token_id={first_id}")).to_have_attribute(
        "data-route", "/admin/staff-tokens/{token_id}/rotate"
    )
    issue = page.locator("tr[data-route='/admin/staff-tokens'][data-status='201']")
    expect(issue.first).to_be_visible()


def test_an_admin_issues_rotates_and_revokes_a_staff_token_that_signs_in(
    site_stack: dict[str, Any], steps: Steps, browser: Browser, axe_source: str
) -> None:
    console = site_stack["console"]
    page = sign_in(steps, site_stack, "admin")
    page.get_by_role("link", name="Staff tokens").click()
    expect(page.get_by_role("heading", name="Staff tokens", exact=True)).to_be_visible()
    steps.shot("tokens")
    assert violations(page, axe_source) == []

    person = f"Temp Helper {uuid.uuid4().hex[:6]}"
    page.get_by_label("Person").fill(person)
    page.get_by_label("Coordinator", exact=True).check()
    page.get_by_label("Valid for (days, 90 if empty)").fill("7")
    page.get_by_role("button", name="Issue token").click()
    first, first_id = issued_secret(page)
    assert first.startswith("cbs_")
    expect(page.get_by_role("status")).to_contain_text(f"New token for {person} (coordinator)")
    row = page.locator(f"tr[data-token='{first_id}']")
    expect(row).to_have_attribute("data-state", "active")
    # The list never holds a secret: only the answer to the form that made it.
    assert page.locator("table").inner_text().count("cbs_") == 0
    steps.shot("token-issued")
    assert violations(page, axe_source) == []

    helper = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    helper.set_default_timeout(STEP_TIMEOUT_MS)
    sign_in_with(helper, console, first)
    expect(helper.get_by_role("heading", name="Case inbox")).to_be_visible()
    expect(helper.get_by_role("link", name="Staff tokens")).to_have_count(0)

    row.get_by_label("Grace (hours)").fill("0")
    row.get_by_role("button", name="Rotate").click()
    second, second_id = issued_secret(page)
    assert second.startswith("cbs_")
    assert second != first
    expect(page.locator(f"[data-previous='{first_id}']")).to_be_visible()
    # No grace: the old token expired at once.
    expect(page.locator(f"tr[data-token='{first_id}']")).to_have_attribute("data-state", "expired")
    steps.shot("token-rotated")

    # The old token is refused from the next request on, the new one signs in.
    helper.goto(console + "/inbox")
    expect(helper).to_have_url(console + "/sign-in?expired=1")
    sign_in_with(helper, console, second)
    expect(helper.get_by_role("heading", name="Case inbox")).to_be_visible()

    page.locator(f"tr[data-token='{second_id}']").get_by_role("button", name="Revoke").click()
    expect(page.locator(f"tr[data-token='{second_id}']")).to_have_attribute("data-state", "revoked")
    steps.shot("token-revoked")
    helper.goto(console + "/inbox")
    expect(helper).to_have_url(console + "/sign-in?expired=1")
    sign_in_with(helper, console, second)
    expect(helper.get_by_role("alert")).to_contain_text("refused")
    helper.context.close()

    audit_shows_the_token_changes(page, first_id, second_id)
    steps.shot("audit")
    assert violations(page, axe_source) == []


def test_an_admin_issues_an_api_key_that_works_until_revoked(
    site_stack: dict[str, Any], steps: Steps, axe_source: str
) -> None:
    content = site_stack["services"]["content"]
    page = sign_in(steps, site_stack, "admin")
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    name = f"test-site-{uuid.uuid4().hex[:6]}"
    page.get_by_label("Consumer").fill(name)
    page.get_by_label("Kind").select_option("secret")
    page.get_by_label("Requests a minute").fill("100")
    page.get_by_role("button", name="Issue API key").click()
    key, key_id = issued_secret(page)
    assert key.startswith("cb_sk_")
    row = page.locator(f"tr[data-key='{key_id}']")
    expect(row).to_have_attribute("data-state", "active")
    expect(row).to_contain_text(name)
    steps.shot("key-issued")
    assert violations(page, axe_source) == []

    wait_for_status(content, key, 200)
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(f"tr[data-key='{key_id}']")).to_have_attribute("data-state", "revoked")
    wait_for_status(content, key, 401)
    steps.shot("key-revoked")

    page.goto(site_stack["console"] + "/admin/audit?route=/admin/api-keys/{key_id}/revoke")
    expect(page.locator("tr[data-entry]", has_text=f"key_id={key_id}")).to_have_attribute(
        "data-status", "204"
    )


def test_bad_input_is_refused_plainly_and_changes_nothing(
    site_stack: dict[str, Any], steps: Steps, axe_source: str
) -> None:
    page = sign_in(steps, site_stack, "admin")
    page.goto(site_stack["console"] + "/admin/staff-tokens")
    tokens = page.locator("tr[data-token]").count()

    page.get_by_label("Person").fill("Nobody Roleless")
    page.get_by_role("button", name="Issue token").click()
    expect(page.locator("[data-problem]")).to_contain_text("choose at least one role")
    expect(page.get_by_label("Person")).to_have_value("Nobody Roleless")
    expect(page.locator("tr[data-token]")).to_have_count(tokens)
    steps.shot("no-roles")
    assert violations(page, axe_source) == []

    # A role the form does not offer (a tampered form): the API refuses it, the console says so.
    page.locator("input[name=role_coordinator]").evaluate(
        "box => { box.name = 'role_janitor'; box.checked = true; }"
    )
    page.get_by_role("button", name="Issue token").click()
    expect(page.locator("[data-problem]")).to_contain_text("roles")
    expect(page.locator("tr[data-token]")).to_have_count(tokens)
    assert page.get_by_label("The new secret, shown this once").count() == 0
    steps.shot("unknown-role")

    page.goto(site_stack["console"] + "/admin/api-keys")
    keys = page.locator("tr[data-key]").count()
    page.get_by_label("Consumer").fill("heart-finder")
    page.get_by_label("Kind").select_option("publishable")
    page.get_by_label("Origins").fill("heart.example/page")
    page.get_by_role("button", name="Issue API key").click()
    expect(page.locator("[data-problem]")).to_contain_text("must be scheme://host[:port]")
    expect(page.get_by_label("Origins")).to_have_value("heart.example/page")
    expect(page.locator("tr[data-key]")).to_have_count(keys)
    steps.shot("bad-origin")
    assert violations(page, axe_source) == []

    page.goto(site_stack["console"] + "/admin/audit?case=not-a-case")
    expect(page.locator("[data-problem]")).to_contain_text("case")
    steps.shot("bad-filter")


def test_a_coordinator_is_refused_every_admin_page_by_the_api(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    page = sign_in(steps, site_stack, "coordinator")
    expect(page.get_by_role("heading", name="Case inbox")).to_be_visible()
    for name in ("Staff tokens", "API keys", "Audit log", "Retention"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    for path in ADMIN_PAGES:
        response = page.goto(site_stack["console"] + path)
        assert response is not None
        assert response.status == 403, path
        expect(page.locator("[data-refusal=not_allowed]")).to_be_visible()
    steps.shot("not-allowed")
    # A form posted with the coordinator's own session: the API refuses, nothing is issued.
    csrf = page.locator("input[name=csrf]").first.input_value()
    posted = page.request.post(
        site_stack["console"] + "/admin/staff-tokens",
        form={"csrf": csrf, "person": "Sneaky", "role_admin": "on"},
    )
    assert posted.status == 403
    assert "cbs_" not in posted.text()


def test_retention_and_the_admin_navigation_in_german(
    site_stack: dict[str, Any], steps: Steps, axe_source: str
) -> None:
    page = sign_in(steps, site_stack, "admin")
    page.get_by_role("link", name="Retention").click()
    expect(page.get_by_role("heading", name="Retention", exact=True)).to_be_visible()
    expect(page.locator("[data-period=personal_data_days]")).to_contain_text("days")
    runs = page.locator("tr[data-run]").count()
    page.get_by_role("button", name="Dry run (count only)").click()
    expect(page.locator("[data-ran=dry]")).to_contain_text("nothing changed")
    expect(page.locator("[data-purged=case_personal_data]")).to_be_visible()
    expect(page.locator("tr[data-run]")).to_have_count(runs)
    steps.shot("retention-dry-run")
    assert violations(page, axe_source) == []
    page.get_by_role("button", name="Run now").click()
    expect(page.locator("[data-ran=run]")).to_contain_text("purged per class")
    expect(page.locator("tr[data-run]")).to_have_count(runs + 1)
    expect(page.locator("tr[data-run]").first).to_contain_text("command")
    steps.shot("retention-run")

    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change language").click()
    expect(page.get_by_role("heading", name="Aufbewahrung", exact=True)).to_be_visible()
    for name in ("Mitarbeiter-Tokens", "API-Schlüssel", "Prüfprotokoll", "Aufbewahrung"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    page.get_by_role("link", name="Mitarbeiter-Tokens").click()
    expect(page.get_by_role("button", name="Token ausstellen")).to_be_visible()
    steps.shot("tokens-german")
    assert violations(page, axe_source) == []
