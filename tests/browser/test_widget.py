"""The widget (<carebridge-inquiry>, <carebridge-status>) as a patient uses it on the example
site: loaded from the inquiries service, in the patient's language, it sends an inquiry the
coordinators then find, puts each problem beside its field (its own checks and the API's), shows
the access token once, and shows the timeline with it."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Steps
from tests.inquiry_samples import SUBMISSION

pytestmark = pytest.mark.browser

MITRAL = "mitral-valve-insufficiency"
# The catalogue of inquiries learns the seeded conditions from content events shortly after a
# first start.
CATALOGUE_DEADLINE = 30.0


@pytest.fixture
def inquiries(site_stack: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site_stack["services"]["inquiries"], timeout=10) as client:
        yield client


def coordinator(site_stack: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {site_stack['credentials']['staff']['coordinator']}"}


def open_widget(steps: Steps, site: str, lang: str) -> Locator:
    page = steps.page
    page.goto(f"{site}/inquiry.html?lang={lang}&condition={MITRAL}")
    form = page.locator("carebridge-inquiry")
    # Ready once the notice and the conditions are in.
    expect(form.locator('input[name="consent.health_data_processing"]')).to_be_attached()
    expect(form.locator("select[name=condition_slug]")).to_have_value(MITRAL)
    return form


def fill_in(form: Locator, **overrides: str) -> None:
    values = {
        "Full name": "Olena Kovalenko",
        "Date of birth": "1961-04-02",
        "Country you live in (two letters, e.g. UA)": "UA",
        "Email": "olena@example.org",
        "What happened so far, in your words": "Short of breath on stairs for a year.",
    } | overrides
    for label, value in values.items():
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_label("Sex").select_option("female")
    form.get_by_label("Airport transfer").check()
    form.locator('input[name="consent.health_data_processing"]').check()


def submit_by_api(inquiries: httpx.Client, site_stack: dict[str, Any]) -> dict[str, Any]:
    """An inquiry sent by the site's server with its secret key, once the catalogue knows the
    condition."""
    key = {"X-API-Key": site_stack["credentials"]["api_keys"]["local-site"]}
    deadline = time.monotonic() + CATALOGUE_DEADLINE
    while True:
        response = inquiries.post("/v1/inquiries", json=copy.deepcopy(SUBMISSION), headers=key)
        if response.status_code != 422 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_the_widget_submits_an_inquiry_that_the_coordinator_api_lists(
    site_stack: dict[str, Any], steps: Steps, inquiries: httpx.Client
) -> None:
    submit_by_api(inquiries, site_stack)  # the catalogue knows the condition from here on
    form = open_widget(steps, site_stack["site"], "en")
    steps.shot("empty-form")
    fill_in(form)
    steps.shot("filled-in")
    form.get_by_role("button", name="Send inquiry").click()
    token = form.locator("[data-access-token]")
    expect(token).to_be_visible()
    # The advice on keeping it, and focus on the answer, so a screen reader reads it first.
    expect(form.locator(".note")).to_contain_text("shown only once")
    expect(form.get_by_role("heading", name="Your inquiry is on its way")).to_be_focused()
    steps.shot("token-shown-once")
    inquiry_id = form.locator("[data-inquiry-id]").inner_text()
    assert token.inner_text().strip()

    listed = inquiries.get("/v1/coordinator/inquiries", headers=coordinator(site_stack))
    assert listed.status_code == 200, listed.text
    ours = [item for item in listed.json()["items"] if item["id"] == inquiry_id]
    assert len(ours) == 1
    assert ours[0]["condition_slug"] == MITRAL
    assert ours[0]["services"] == ["transfer"]
    case = inquiries.get(f"/v1/coordinator/inquiries/{inquiry_id}", headers=coordinator(site_stack))
    assert case.status_code == 200, case.text
    assert case.json()["patient"]["full_name"] == "Olena Kovalenko"

    # Reloading shows an empty form: the token is not kept anywhere on the page.
    steps.page.reload()
    expect(steps.page.locator("carebridge-inquiry [data-access-token]")).to_have_count(0)


def test_the_widgets_own_checks_put_each_problem_beside_its_field(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    form = open_widget(steps, site_stack["site"], "en")
    fill_in(form, Email="olena(at)example.org", **{"Date of birth": "2999-01-01"})
    form.locator('input[name="consent.health_data_processing"]').uncheck()
    form.get_by_role("button", name="Send inquiry").click()
    # The first field in error, in the order of the form, has the focus.
    expect(form.get_by_label("Date of birth")).to_be_focused()
    email = form.get_by_label("Email", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    described = form.locator(f"[id='{email.get_attribute('aria-describedby')}']")
    expect(described).to_have_text("Please enter an email address like name@example.com.")
    expect(form.locator("[data-error-for='patient.date_of_birth']")).to_have_text(
        "This date must be in the past."
    )
    expect(form.locator("[data-error-for='consent.health_data_processing']")).to_have_text(
        "We can only arrange treatment with this consent."
    )
    expect(form.get_by_role("alert")).to_have_text(
        "3 fields need your attention; they are marked below."
    )
    steps.shot("client-errors")
    assert form.locator("[data-access-token]").count() == 0


def test_the_apis_field_errors_appear_beside_their_fields(
    site_stack: dict[str, Any], steps: Steps, inquiries: httpx.Client
) -> None:
    """With the widget's checks off (novalidate), what the API refuses (problem+json `errors`)
    lands beside the fields it names; nothing is created."""
    before = inquiries.get("/v1/coordinator/inquiries", headers=coordinator(site_stack))
    form = open_widget(steps, site_stack["site"], "de")
    form.evaluate("el => el.setAttribute('novalidate', '')")
    page: Page = steps.page
    values = {
        "Vollständiger Name": "Olena Kovalenko",
        "Geburtsdatum": "2999-01-01",
        "Land, in dem Sie leben (zwei Buchstaben, z. B. UA)": "UA",
        "Telefon (optional, mit Ländervorwahl, z. B. +380…)": "0501 234567",
        "E-Mail": "olena@example.org",
        "Was bisher geschah, in Ihren Worten": "Atemnot beim Treppensteigen.",
        "Von": "2030-03-10",
        "Bis": "2030-03-01",
    }
    for label, value in values.items():
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_label("Geschlecht").select_option("female")
    form.locator('input[name="consent.health_data_processing"]').check()
    with page.expect_response(lambda r: r.url.endswith("/v1/inquiries")) as answer:
        form.get_by_role("button", name="Anfrage senden").click()
    assert answer.value.status == 400
    phone = form.get_by_label("Telefon (optional, mit Ländervorwahl, z. B. +380…)")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_be_focused()
    expect(form.locator("[data-error-for='patient.phone']")).to_have_text(
        "Bitte die Nummer mit +, Ländervorwahl und nur Ziffern eingeben."
    )
    expect(form.get_by_role("alert")).to_contain_text("Felder brauchen Ihre Aufmerksamkeit")
    steps.shot("api-malformed-field")

    # Well-formed now, but against the rules (422): each rule's field.
    phone.fill("+380 50 123 4567")
    with page.expect_response(lambda r: r.url.endswith("/v1/inquiries")) as answer:
        form.get_by_role("button", name="Anfrage senden").click()
    assert answer.value.status == 422
    expect(form.locator("[data-error-for='patient.date_of_birth']")).to_have_text(
        "must be in the past"
    )
    expect(form.locator("[data-error-for='preferred_dates.to']")).to_have_text("is before from")
    expect(form.get_by_label("Bis", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(form.locator("[data-error-for='patient.phone']")).to_be_empty()
    expect(phone).not_to_have_attribute("aria-invalid", "true")
    steps.shot("api-rule-errors")
    after = inquiries.get("/v1/coordinator/inquiries", headers=coordinator(site_stack))
    assert len(after.json()["items"]) == len(before.json()["items"])


def test_the_status_view_shows_the_patients_timeline_with_their_token(
    site_stack: dict[str, Any], steps: Steps, inquiries: httpx.Client
) -> None:
    answer = submit_by_api(inquiries, site_stack)
    case = f"/v1/coordinator/inquiries/{answer['id']}"
    version = inquiries.get(case, headers=coordinator(site_stack)).json()["version"]
    moved = inquiries.post(
        f"{case}/transitions",
        json={"to": "in_review"},
        headers={**coordinator(site_stack), "If-Match": f'"{version}"'},
    )
    assert moved.status_code == 200, moved.text
    page = steps.page
    page.goto(f"{site_stack['site']}/inquiry.html?lang=de")
    status = page.locator("carebridge-status")
    status.get_by_label("Anfragenummer").fill(answer["id"])
    status.get_by_label("Zugangsschlüssel").fill("cbt_not-the-token")
    status.get_by_role("button", name="Meine Anfrage anzeigen").click()
    expect(status.get_by_role("alert")).to_have_text(
        "Keine Anfrage passt zu dieser Nummer und diesem Schlüssel."
    )
    steps.shot("status-wrong-token")
    status.get_by_label("Zugangsschlüssel").fill(answer["access_token"])
    status.get_by_role("button", name="Meine Anfrage anzeigen").click()
    expect(status.locator("[data-status]")).to_have_text("In Prüfung")
    timeline = status.locator("ol.timeline li")
    expect(timeline.first).to_contain_text("Anfrage eingegangen")
    expect(timeline.last).to_contain_text("In Prüfung")
    expect(status.locator("[role=alert]")).to_be_empty()
    steps.shot("status-timeline")


def test_the_widget_speaks_arabic_right_to_left(site_stack: dict[str, Any], steps: Steps) -> None:
    form = open_widget(steps, site_stack["site"], "ar")
    assert form.locator("div[dir]").first.get_attribute("dir") == "rtl"
    expect(form.get_by_role("button", name="إرسال الطلب")).to_be_visible()
    assert steps.page.evaluate("document.documentElement.dir") == "rtl"
    steps.shot("arabic")


def test_the_keyboard_reaches_every_field_in_the_order_of_the_form(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    form = open_widget(steps, site_stack["site"], "en")
    page = steps.page
    form.locator("select[name=condition_slug]").focus()
    focused: list[str] = []
    for _ in range(80):
        name = form.evaluate(
            """el => { const a = el.shadowRoot.activeElement;
                       return a ? (a.name || a.tagName.toLowerCase()) : ''; }"""
        )
        if not focused or focused[-1] != name:  # a date field's parts share one element
            focused.append(name)
        if name == "button":
            break
        page.keyboard.press("Tab")
    steps.shot("focus-reached-the-button")
    expected = [
        "condition_slug",
        "patient.full_name",
        "patient.date_of_birth",
        "patient.sex",
        "patient.country",
        "patient.language",
        "patient.email",
        "patient.phone",
        "patient.channels",
        "description",
        "preferred_dates.from",
        "preferred_dates.to",
        "services",
    ]
    assert focused[: len(expected)] == expected
    consents = [name for name in focused if name.startswith("consent.")]
    assert consents[0] == "consent.health_data_processing"
    assert len(consents) == 4
    assert focused[-1] == "button"
