"""The operator console in a real browser against the whole local stack: sign-in with the
stack's staff tokens, a coordinator working a new inquiry (assign, review) and seeing it change,
the APIs' refusals shown plainly (an admin page to a coordinator, a forged CSRF token), a
refused token, and axe-core on each page. Screenshots of every page in the test's folder."""

from __future__ import annotations

import asyncio
import copy
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import nats
import pytest
from playwright.sync_api import Page, expect

from deploy.embedded import free_port
from services.runtime.privacy.crypto import KeyRing
from tests.browser.conftest import Steps
from tests.browser.test_accessibility import violations
from tests.browser.test_widget import submit_by_api

pytestmark = pytest.mark.browser


def sign_in(steps: Steps, stack: dict[str, Any], role: str) -> Page:
    page = steps.page
    page.goto(stack["console"] + "/sign-in")
    steps.shot("sign-in")
    page.get_by_label("Staff token").fill(stack["credentials"]["staff"][role])
    page.get_by_role("button", name="Sign in").click()
    return page


def test_a_coordinator_assigns_and_reviews_a_new_inquiry_in_the_console(
    site_stack: dict[str, Any], steps: Steps, axe_source: str
) -> None:
    with httpx.Client(base_url=site_stack["services"]["inquiries"], timeout=10) as inquiries:
        case_id = submit_by_api(inquiries, site_stack)["id"]
    page = sign_in(steps, site_stack, "coordinator")
    expect(page.get_by_role("heading", name="Case inbox")).to_be_visible()
    # The session cookie: out of scripts' reach, never sent cross-site; not Secure only
    # because the local stack is plain http (CONSOLE_INSECURE_COOKIES).
    (cookie,) = page.context.cookies()
    assert cookie["name"] == "console_session"
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert not cookie["secure"]
    page.get_by_label("Coordinator").select_option("unassigned")
    page.get_by_label("Status").select_option("submitted")
    page.get_by_role("button", name="Filter").click()
    link = page.get_by_role("link", name=case_id[:8])
    expect(link).to_be_visible()
    steps.shot("inbox")
    assert violations(page, axe_source) == []

    link.click()
    expect(page.locator("[data-status]")).to_have_text("submitted")
    expect(page.get_by_text("Olena", exact=False).first).to_be_visible()
    steps.shot("case")
    assert violations(page, axe_source) == []

    page.get_by_label("Assign to").fill("local-coordinator")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator("[data-coordinator]")).to_have_text("local-coordinator")
    page.get_by_label("Move to").select_option("in_review")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("[data-status]")).to_have_text("in_review")
    steps.shot("in-review")


def test_a_form_sent_on_a_stale_version_is_shown_as_a_concurrent_change(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    with httpx.Client(base_url=site_stack["services"]["inquiries"], timeout=10) as inquiries:
        case_id = submit_by_api(inquiries, site_stack)["id"]
    page = sign_in(steps, site_stack, "coordinator")
    page.goto(f"{site_stack['console']}/cases/{case_id}")
    page.locator("form[action$='/transition'] input[name=version]").evaluate(
        "input => input.value = String(Number(input.value) - 1 + 100)"
    )
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("[data-refusal=changed]")).to_contain_text("Someone changed this case")
    steps.shot("changed")


def test_a_coordinator_is_refused_the_admin_page(site_stack: dict[str, Any], steps: Steps) -> None:
    page = sign_in(steps, site_stack, "coordinator")
    expect(page.get_by_role("link", name="Dead letters")).to_have_count(0)
    response = page.goto(site_stack["console"] + "/admin/dead-letters")
    assert response is not None
    assert response.status == 403
    expect(page.locator("[data-refusal=not_allowed]")).to_be_visible()
    steps.shot("not-allowed")


def test_an_admin_sees_the_dead_letters_of_every_service(
    site_stack: dict[str, Any], steps: Steps, axe_source: str
) -> None:
    page = sign_in(steps, site_stack, "admin")
    page.get_by_role("link", name="Dead letters").click()
    expect(page.get_by_role("heading", name="Dead letters")).to_be_visible()
    steps.shot("dead-letters")
    assert violations(page, axe_source) == []


def test_a_forged_csrf_token_is_refused_and_changes_nothing(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    with httpx.Client(base_url=site_stack["services"]["inquiries"], timeout=10) as inquiries:
        case_id = submit_by_api(inquiries, site_stack)["id"]
    page = sign_in(steps, site_stack, "coordinator")
    page.goto(f"{site_stack['console']}/cases/{case_id}")
    page.locator("form[action$='/transition'] input[name=csrf]").evaluate(
        "input => input.value = 'forged'"
    )
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("[data-refusal=csrf]")).to_be_visible()
    steps.shot("forged")
    page.goto(f"{site_stack['console']}/cases/{case_id}")
    expect(page.locator("[data-status]")).to_have_text("submitted")


def test_a_refused_token_opens_no_session_and_pages_ask_to_sign_in(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    page = steps.page
    page.goto(site_stack["console"] + "/inbox")
    expect(page).to_have_url(site_stack["console"] + "/sign-in?expired=1")
    # Signing someone in from another site (login CSRF) is refused by the Origin.
    token = site_stack["credentials"]["staff"]["coordinator"]
    forged = httpx.post(
        site_stack["console"] + "/sign-in",
        data={"token": token, "locale": "en"},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers
    page.get_by_label("Staff token").fill("cbs_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("refused")
    steps.shot("refused")


def test_the_language_chosen_is_remembered_in_the_session(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    page = sign_in(steps, site_stack, "coordinator")
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change language").click()
    expect(page.get_by_role("heading", name="Fälle")).to_be_visible()
    page.goto(site_stack["console"] + "/inbox")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    steps.shot("german")
    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


WALK_DEADLINE = 90.0
INBOX_PAGE = 25  # the console's page size


def reload_until(page: Page, selector: str, count: int) -> None:
    """Reload the case page until `count` elements match `selector` (bookings move on their
    own as the reference partners answer)."""
    deadline = time.monotonic() + WALK_DEADLINE
    while page.locator(selector).count() < count:
        assert time.monotonic() < deadline, f"{selector} stayed below {count}"
        time.sleep(1.0)
        page.reload()


def fill(page: Page, values: dict[str, str]) -> None:
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)


def choose_travel_services(page: Page) -> None:
    """The confirmation's choices: who paid, and the transfer, interpreter and support."""
    page.get_by_label("Payer", exact=True).select_option("relative")
    page.get_by_label("Mobility", exact=True).select_option("wheelchair")
    page.get_by_label("Book an airport transfer").check()
    page.get_by_label("Book an interpreter").check()
    page.get_by_label("Round-the-clock support").check()


def test_a_coordinator_takes_a_new_inquiry_to_completed_bookings_in_the_console(
    site_stack: dict[str, Any], steps: Steps, axe_source: str
) -> None:
    with httpx.Client(base_url=site_stack["services"]["inquiries"], timeout=10) as inquiries:
        case_id = submit_by_api(inquiries, site_stack)["id"]
    page = sign_in(steps, site_stack, "coordinator")
    page.goto(f"{site_stack['console']}/cases/{case_id}")
    page.get_by_label("Assign to").fill("local-coordinator")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.get_by_label("Move to").select_option("in_review")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("[data-status]")).to_have_text("in_review")

    fill(
        page,
        {
            "Programme": "Mitral valve repair, minimally invasive",
            "Clinic": "Kerckhoff-Klinik, Bad Nauheim",
            "Physician": "Prof. Dr. med. A. Weber",
            "Procedures (one a line)": "transesophageal echocardiography\nmitral valve repair",
            "Length of stay (days)": "10",
            "Cost items (one a line: description: amount)": (
                "diagnostics: 1500.00\nsurgery and stay: 20000.00"
            ),
            "Total (EUR)": "21000.00",
            "Advance (EUR)": "5000.00",
            "Valid until (clinic time)": "2027-01-31T23:59",
        },
    )
    steps.shot("offer-form")
    assert violations(page, axe_source) == []
    page.get_by_role("button", name="Send offer").click()
    # The totals are checked before anything is sent: the case is unchanged.
    expect(page.get_by_text("the items add up to 21500.00")).to_be_visible()
    steps.shot("offer-refused")
    # The form comes back with what was entered: only the total needs correcting.
    page.get_by_label("Total (EUR)", exact=True).fill("21500.00")
    page.get_by_role("button", name="Send offer").click()
    expect(page.locator("[data-status]")).to_have_text("offer_sent")

    page.get_by_role("button", name="Accept offer on the patient's behalf (1)").click()
    expect(page.locator("[data-status]")).to_have_text("accepted")
    fill(
        page,
        {
            "Amount (EUR)": "5000.00",
            "Paid or issued on": "2026-11-20",
            "Payment reference": "SEPA-2026-11-0042",
            "Payer's name": "Taras Kovalenko",
            "Arrival flight": "LH1491",
            "Airport (IATA)": "FRA",
            "Scheduled arrival (clinic time)": "2027-02-01T14:35",
            "Clinic name": "Kerckhoff-Klinik",
            "Clinic address": "Benekestr. 2-8, 61231 Bad Nauheim",
            "Admission": "2027-02-02",
            "Planned discharge": "2027-02-12",
            "Passengers": "2",
            "Luggage": "3",
            "Specialty": "cardiology",
            "Session date": "2027-02-02",
            "Session start": "09:00",
            "Minutes": "90",
            "Place": "Kerckhoff-Klinik, admission",
        },
    )
    choose_travel_services(page)
    steps.shot("confirm-form")
    assert violations(page, axe_source) == []
    page.get_by_role("button", name="Confirm with travel plan").click()
    expect(page.locator("[data-status]")).to_have_text("confirmed")
    reload_until(page, "tr[data-booking-status=completed]", 2)
    steps.shot("bookings-completed")

    page.get_by_label("Move to").select_option("in_treatment")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("[data-status]")).to_have_text("in_treatment")
    fill(
        page,
        {
            "Fit to fly": "2027-02-13",
            "Medicine": "Marcumar",
            "Active ingredient": "phenprocoumon",
            "Strength": "3 mg",
            "Quantity": "100",
            "Return flight": "LH1490",
            "Departs (clinic time)": "2027-02-14T12:00",
            "At the airport by": "2027-02-14T09:30",
            "Pick-up": "2027-02-14T08:00",
            "Recipient": "Olena Kovalenko",
            "Street": "vul. Khreshchatyk 1",
            "Postal code": "01001",
            "City": "Kyiv",
            "Country (ISO code)": "UA",
        },
    )
    page.locator("#return_airport").fill("FRA")
    steps.shot("discharge-form")
    page.get_by_role("button", name="Record discharge").click()
    expect(page.locator("[data-status]")).to_have_text("discharged")
    reload_until(page, "tr[data-booking-status=completed]", 4)
    steps.shot("all-bookings-completed")

    page.get_by_label("New note (staff only)").fill("Called the daughter: flight booked.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("[data-note]")).to_contain_text("local-coordinator: Called the daughter")

    # Logistics' view: the completed shipment among the bookings, linked back to the case.
    page.get_by_role("link", name="Bookings").click()
    page.get_by_label("Status").select_option("completed")
    page.get_by_label("Kind").select_option("shipment")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=case_id[:8])).to_be_visible()
    steps.shot("bookings")
    assert violations(page, axe_source) == []


def test_an_editor_publishes_a_change_that_the_content_api_then_serves(
    site_stack: dict[str, Any], steps: Steps, axe_source: str
) -> None:
    editor = {"Authorization": f"Bearer {site_stack['credentials']['staff']['editor']}"}
    path = "/v1/editorial/services/airport-transfer"
    title = f"Airport transfer, door to door {time.monotonic_ns()}"
    with httpx.Client(base_url=site_stack["services"]["content"], timeout=10) as content:
        draft = content.get(path, headers=editor).json()
        original = copy.deepcopy(draft["draft"])
        body = draft["draft"]
        body["translations"]["en"]["title"] = title
        saved = content.put(
            path, json=body, headers={**editor, "If-Match": f'"{draft["version"]}"'}
        )
        assert saved.status_code == 200, saved.text
        try:
            page = sign_in(steps, site_stack, "editor")
            page.get_by_role("link", name="Documents").click()
            page.get_by_label("Collection").select_option("services")
            page.get_by_role("button", name="Filter").click()
            row = page.locator("tr[data-document=airport-transfer]")
            expect(row).to_have_attribute("data-standing", "changed")
            steps.shot("editor")
            assert violations(page, axe_source) == []
            row.get_by_role("button", name="Publish airport-transfer").click()
            expect(row).to_have_attribute("data-standing", "published")
            steps.shot("published")
            served = content.get("/v1/services/airport-transfer", params={"locale": "en"})
            assert served.status_code == 200
            assert served.json()["title"] == title
        finally:
            # The stack is shared: the example site's tests read the seed's title.
            _publish_again(content, editor, path, original)


def _publish_again(
    content: httpx.Client, editor: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    version = content.get(path, headers=editor).json()["version"]
    match = {**editor, "If-Match": f'"{version}"'}
    restored = content.put(path, json=body, headers=match)
    assert restored.status_code == 200, restored.text
    match = {**editor, "If-Match": f'"{restored.json()["version"]}"'}
    published = content.post(f"{path}/publish", headers=match)
    assert published.status_code == 200, published.text


IDLE_SECONDS = 3


@pytest.fixture
def impatient_console(site_stack: dict[str, Any]) -> Iterator[str]:
    """A second console on the same stack whose sessions end after IDLE_SECONDS idle: its own
    process, started as the stack starts the console, with CONSOLE_IDLE_TIMEOUT short."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": site_stack["database_url"],
        "CONSOLE_ENCRYPTION_KEYS": KeyRing.generate_setting("test1"),
        "CONSOLE_INSECURE_COOKIES": "true",
        "CONSOLE_IDLE_TIMEOUT": str(IDLE_SECONDS),
        **{f"CONSOLE_{name.upper()}_URL": url for name, url in site_stack["services"].items()},
    }
    process = subprocess.Popen(  # our own module, with our own interpreter
        [sys.executable, "-m", "services.console"], env=env, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "the console exited"
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the console was not ready in 30 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(15)


def test_a_session_idle_past_its_timeout_asks_to_sign_in_again(
    site_stack: dict[str, Any], impatient_console: str, steps: Steps
) -> None:
    page = steps.page
    page.goto(impatient_console + "/sign-in")
    page.get_by_label("Staff token").fill(site_stack["credentials"]["staff"]["coordinator"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Case inbox")).to_be_visible()
    time.sleep(IDLE_SECONDS + 1)  # the idle timeout itself is what is tested
    page.goto(impatient_console + "/inbox")
    expect(page).to_have_url(impatient_console + "/sign-in?expired=1")
    expect(page.get_by_role("status")).to_contain_text("Your session ended")
    steps.shot("expired")


def publish_poison(nats_url: str, subject: str) -> str:
    """A message no consumer can decode, published as a broken producer would; its id."""
    message_id = str(uuid.uuid4())

    async def publish() -> None:
        connection = await nats.connect(nats_url)
        try:
            await connection.jetstream().publish(
                subject, b"{not json", headers={"Nats-Msg-Id": message_id}
            )
        finally:
            await connection.drain()

    # Playwright's sync API keeps an event loop in this thread: the client runs in its own.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, publish()).result(timeout=30)
    return message_id


def test_an_admin_replays_a_dead_letter_and_sees_the_services_answer(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    subject = "inquiries.inquiry.confirmed.v1"
    publish_poison(site_stack["nats_url"], subject)
    page = sign_in(steps, site_stack, "admin")
    page.get_by_role("link", name="Dead letters").click()
    row = page.locator(f"tr[data-subject='{subject}']").first
    deadline = time.monotonic() + WALK_DEADLINE
    while row.count() == 0:
        assert time.monotonic() < deadline, "the poison message never became a dead letter"
        time.sleep(0.5)
        page.reload()
    steps.shot("dead-letter")
    row.get_by_role("button", name="Replay").click()
    # The message is still broken: the service refuses the replay and says why, plainly.
    expect(page.get_by_text("replay failed again")).to_be_visible()
    steps.shot("replay-refused")


def test_the_inbox_pages_on_with_next_page_links(site_stack: dict[str, Any], steps: Steps) -> None:
    with httpx.Client(base_url=site_stack["services"]["inquiries"], timeout=10) as inquiries:
        submitted = {submit_by_api(inquiries, site_stack)["id"][:8] for _ in range(INBOX_PAGE + 1)}
    page = sign_in(steps, site_stack, "coordinator")
    page.goto(f"{site_stack['console']}/inbox?queue=unassigned&status=submitted")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(INBOX_PAGE)
    first = set(rows.locator("td:first-child a").all_inner_texts())
    steps.shot("inbox-first-page")
    top = rows.first.locator("td:first-child a").inner_text()
    page.get_by_role("link", name="Next page").click()
    # With JavaScript the next page replaces the list in place: wait until it has.
    expect(rows.first.locator("td:first-child a")).not_to_have_text(top)
    second = set(rows.locator("td:first-child a").all_inner_texts())
    steps.shot("inbox-next-page")
    assert first.isdisjoint(second)
    # Newest first: the page after the first holds at least the oldest of those just sent.
    assert submitted & second


def test_sign_in_and_the_inbox_work_from_the_keyboard_alone(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    page = steps.page
    page.goto(site_stack["console"] + "/sign-in")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Staff token")).to_be_focused()
    page.keyboard.type(site_stack["credentials"]["staff"]["coordinator"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Case inbox")).to_be_visible()
    page.get_by_label("Status").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Filter")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(site_stack["console"] + "/inbox?queue=&status=")
    steps.shot("keyboard")
