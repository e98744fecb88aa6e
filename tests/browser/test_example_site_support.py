"""The pages patients' emails link to, in Chromium against the whole local stack: an inquiry is
submitted; a support agent replies in the patient's case through the support API; the patient's
emails arrive at the stack's SMTP catcher, and the links in them (never the token) open the
example site's /support and /status pages, the inquiry number filled in. The patient types their
access token, reads the agent's reply under the agent's name, writes back (the desk's API then
has it), opens a new case, and sees their inquiry's status; a wrong token is refused plainly;
Arabic reads right to left; axe-core finds no serious violation. Screenshots in the test's
folder."""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Steps
from tests.browser.test_accessibility import violations
from tests.browser.test_console_support import (  # noqa: F401 - fixtures
    AGENT,
    on_call,
    open_case_as_patient,
    staff,
    support,
)

pytestmark = pytest.mark.browser

LINK = re.compile(r"http://127\.0\.0\.1:\d+/(?:status|support)\?\S+")
# Seconds for an event to become an email at the catcher.
MAIL_DEADLINE = 60
REPLY = "The driver is on his way; he waits at exit B."


def emailed_link(mail: Path, inquiry_id: str, page: str) -> str:
    """The link to `page` in a plain-text email about the inquiry, once one arrives."""
    deadline = time.monotonic() + MAIL_DEADLINE
    while True:
        for path in sorted(mail.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(("plain",))
            text = body.get_content() if body is not None else ""  # type: ignore[attr-defined]
            for url in LINK.findall(text):
                if f"/{page}?" in url and f"inquiry={inquiry_id}" in url:
                    return str(url)
        assert time.monotonic() < deadline, f"no email links to /{page} for {inquiry_id}"
        time.sleep(0.3)


def agent_replies(site_stack: dict[str, Any], support: httpx.Client, case_id: str) -> None:  # noqa: F811
    answer = support.post(
        f"/v1/support/desk/cases/{case_id}/messages",
        json={"message": REPLY},
        headers=staff(site_stack, "support_agent"),
    )
    assert answer.status_code == 204, answer.text


def sign_in_to(page: Page, url: str, token: str, button: str) -> Locator:
    """Open an emailed link and type the token: the number is there already."""
    page.goto(url)
    widget = page.locator("carebridge-support, carebridge-status")
    expect(widget.locator("input[type=password]")).to_be_visible()
    widget.locator("input[type=password]").fill(token)
    widget.locator("form").first.get_by_role("button", name=button).click()
    return widget


def test_a_patient_follows_the_emailed_links_reads_the_reply_writes_back_and_sees_the_status(
    site_stack: dict[str, Any],
    stack_mail: Path,
    support: httpx.Client,  # noqa: F811
    on_call: None,  # noqa: F811
    steps: Steps,
    axe_source: str,
) -> None:
    opened = open_case_as_patient(site_stack, support)
    case_id = opened["case"]["id"]
    inquiry_id = opened["case"]["inquiry_id"]
    token = opened["patient"]["Authorization"].removeprefix("Bearer ")
    agent_replies(site_stack, support, case_id)
    support_link = emailed_link(stack_mail, inquiry_id, "support")
    status_link = emailed_link(stack_mail, inquiry_id, "status")
    assert f"case={case_id}" in support_link
    assert token not in support_link + status_link
    assert support_link.startswith(site_stack["site"] + "/support?")

    page = steps.page
    page.goto(support_link)
    widget = page.locator("carebridge-support")
    expect(widget.get_by_label("Inquiry number")).to_have_value(inquiry_id)
    expect(widget.get_by_label("Access token")).to_have_attribute("type", "password")
    steps.shot("support-link-opened")
    # A wrong token (of the right shape) is refused, without saying which half is wrong.
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    widget.get_by_label("Access token").fill(wrong)
    widget.get_by_role("button", name="Show my support").click()
    expect(widget.get_by_role("alert")).to_have_text(
        "No case matches this inquiry number and token."
    )
    expect(widget.locator(".thread")).to_have_count(0)
    steps.shot("wrong-token")

    widget.get_by_label("Access token").fill(token)
    widget.get_by_role("button", name="Show my support").click()
    thread = widget.locator(".thread li")
    expect(thread).to_have_count(2)
    expect(widget.locator("[role=alert]")).to_be_empty()
    # The thread in order, each message with who wrote it: the patient, then the agent by name.
    expect(thread.nth(0)).to_have_attribute("data-author", "patient")
    expect(thread.nth(0).locator(".who")).to_contain_text("You")
    expect(thread.nth(0).locator(".body")).to_have_text("Водія немає в аеропорту.")
    expect(thread.nth(1).locator(".who")).to_contain_text(f"Support: {AGENT}")
    expect(thread.nth(1).locator(".body")).to_have_text(REPLY)
    expect(widget.locator("[data-case-status]")).to_have_text("Open")
    steps.shot("support-case-thread")
    assert violations(page, axe_source) == []

    widget.get_by_label("Your reply").fill("Thank you, I see him now.")
    widget.get_by_role("button", name="Send reply").click()
    expect(thread).to_have_count(3)
    expect(thread.nth(2).locator(".body")).to_have_text("Thank you, I see him now.")
    steps.shot("patient-wrote-back")
    desk = support.get(
        f"/v1/support/desk/cases/{case_id}", headers=staff(site_stack, "support_agent")
    ).json()
    assert [(m["author"], m["body"]) for m in desk["messages"]][-1] == (
        "patient",
        "Thank you, I see him now.",
    )


def test_a_patient_opens_a_new_case_and_follows_the_emailed_status_link(
    site_stack: dict[str, Any],
    stack_mail: Path,
    support: httpx.Client,  # noqa: F811
    on_call: None,  # noqa: F811
    steps: Steps,
    axe_source: str,
) -> None:
    opened = open_case_as_patient(site_stack, support)
    case_id = opened["case"]["id"]
    inquiry_id = opened["case"]["inquiry_id"]
    token = opened["patient"]["Authorization"].removeprefix("Bearer ")
    agent_replies(site_stack, support, case_id)
    page = steps.page
    widget = sign_in_to(
        page, emailed_link(stack_mail, inquiry_id, "support"), token, "Show my support"
    )
    thread = widget.locator(".thread li")
    expect(thread).to_have_count(2)
    # A new case from the same page: category, priority, message.
    widget.get_by_label("What it is about").select_option("billing")
    widget.get_by_label("Your message").fill("Which account do I pay the deposit to?")
    widget.get_by_role("button", name="Open case").click()
    expect(widget.locator(".case h3")).to_be_focused()
    expect(thread).to_have_count(1)
    expect(thread.nth(0).locator(".body")).to_have_text("Which account do I pay the deposit to?")
    new_case = re.search(r"case=([0-9a-f-]{36})", page.url)
    assert new_case is not None
    assert new_case.group(1) != case_id
    seen = support.get(f"/v1/support/cases/{new_case.group(1)}", headers=opened["patient"])
    assert seen.json()["category"] == "billing"
    steps.shot("new-case")

    status_link = emailed_link(stack_mail, inquiry_id, "status")
    status = sign_in_to(page, status_link, token, "Show my inquiry")
    expect(status.locator("[data-status]")).to_have_text("Inquiry received")
    expect(status.get_by_label("Inquiry number")).to_have_value(inquiry_id)
    assert token not in page.url
    steps.shot("status-from-email")
    assert violations(page, axe_source) == []


def test_the_support_page_reads_right_to_left_in_arabic(
    site_stack: dict[str, Any],
    stack_mail: Path,
    support: httpx.Client,  # noqa: F811
    on_call: None,  # noqa: F811
    steps: Steps,
    axe_source: str,
) -> None:
    opened = open_case_as_patient(site_stack, support)
    inquiry_id = opened["case"]["inquiry_id"]
    token = opened["patient"]["Authorization"].removeprefix("Bearer ")
    agent_replies(site_stack, support, opened["case"]["id"])
    link = emailed_link(stack_mail, inquiry_id, "support")

    page = steps.page
    widget = sign_in_to(page, f"{link}&lang=ar", token, "عرض الدعم الخاص بي")
    expect(widget.locator(".thread li")).to_have_count(2)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    inner = widget.locator("div[dir]").first
    expect(inner).to_have_attribute("dir", "rtl")
    expect(inner).to_have_attribute("lang", "ar")
    expect(widget.locator(".thread li").nth(0).locator(".who")).to_contain_text("أنت")
    expect(widget.locator(".thread li").nth(1).locator(".who")).to_contain_text(f"الدعم: {AGENT}")
    expect(widget.get_by_label("ردك")).to_be_visible()
    steps.shot("support-arabic")
    assert violations(page, axe_source) == []

    status_link = emailed_link(stack_mail, inquiry_id, "status")
    status = sign_in_to(page, f"{status_link}&lang=ar", token, "عرض طلبي")
    expect(status.locator("[data-status]")).to_have_text("تم استلام الطلب")
    steps.shot("status-arabic")


def test_a_busy_desk_and_a_lost_connection_are_told_plainly(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    """The desk's answers a patient rarely meets, put in the browser's way (Playwright's
    routing): too many tries (429 with Retry-After), and no connection at all. In German."""
    cases = f"{site_stack['services']['support']}/v1/support/cases/**"
    page = steps.page
    page.route(
        cases,
        lambda route: route.fulfill(
            status=429,
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "retry-after",
                "Retry-After": "42",
            },
            content_type="application/problem+json",
            body='{"status": 429, "detail": "too many requests; retry after the time given"}',
        ),
    )
    some = "7c0e4d0e-2f55-4c43-9d3e-0a4f2b3c1d10"
    widget = sign_in_to(
        page,
        f"{site_stack['site']}/support?inquiry={some}&case={some}&lang=de",
        "cbp_" + "a" * 43,
        "Meinen Support anzeigen",
    )
    alert = widget.locator("[role=alert]")
    expect(alert).to_have_text("Zu viele Versuche. Bitte 42 Sekunden warten und erneut versuchen.")
    steps.shot("too-many-tries")
    page.unroute(cases)
    page.route(cases, lambda route: route.abort("internetdisconnected"))
    widget.get_by_role("button", name="Meinen Support anzeigen").click()
    expect(alert).to_have_text(
        "Der Support war nicht erreichbar. Bitte Verbindung prüfen und erneut versuchen."
    )
    steps.shot("offline")
