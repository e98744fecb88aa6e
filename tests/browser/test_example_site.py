"""The example site (examples/site/) in Chromium, served by the local stack at the URL stack.json
gives as "site", rendering what the content API holds: the conditions, the mitral valve
insufficiency page in English and German (with its JSON-LD in the head), the language switch and
search."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Steps

pytestmark = pytest.mark.browser

MITRAL = "mitral-valve-insufficiency"


def test_the_home_page_lists_the_conditions_the_api_publishes(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    page = steps.page
    page.goto(f"{site_stack['site']}/index.html?lang=en")
    conditions = page.locator("#conditions li h2 a")
    expect(conditions.filter(has_text="Mitral valve insufficiency")).to_be_visible()
    steps.shot("home")
    assert conditions.count() >= 5
    conditions.filter(has_text="Mitral valve insufficiency").click()
    expect(page.locator("#document h1")).to_have_text("Mitral valve insufficiency")
    assert f"slug={MITRAL}" in page.url
    steps.shot("mitral-from-home")


@pytest.mark.parametrize(
    ("lang", "title", "faqs", "treatment", "service"),
    [
        (
            "en",
            "Mitral valve insufficiency",
            "Frequently asked questions",
            "Mitral valve repair",
            "Airport transfer",
        ),
        (
            "de",
            "Mitralklappeninsuffizienz",
            "Häufige Fragen",
            "Mitralklappenrekonstruktion",
            "Flughafentransfer",
        ),
    ],
)
def test_the_mitral_page_renders_from_the_api_in_the_readers_language(
    site_stack: dict[str, Any],
    steps: Steps,
    lang: str,
    title: str,
    faqs: str,
    treatment: str,
    service: str,
) -> None:
    page = steps.page
    page.goto(f"{site_stack['site']}/condition.html?slug={MITRAL}&lang={lang}")
    article = page.locator("#document")
    expect(article.locator("h1")).to_have_text(title)
    steps.shot(f"mitral-{lang}")
    assert page.evaluate("document.documentElement.lang") == lang
    assert article.get_attribute("lang") == lang
    # The sections, in the editors' order, each with its heading and rendered text.
    sections = article.locator("section[id]")
    assert sections.count() >= 4
    assert article.locator("section#overview p").first.inner_text()
    # FAQs open with the keyboard (details/summary), related documents by name.
    expect(article.locator(".faqs h2")).to_have_text(faqs)
    first = article.locator(".faqs summary").first
    first.focus()
    page.keyboard.press("Enter")
    expect(article.locator(".faqs details").first).to_have_attribute("open", "")
    related = article.locator("[data-related=related_treatments]")
    expect(related.get_by_text(treatment, exact=True)).to_be_visible()
    related = article.locator("[data-related=related_services]")
    expect(related.get_by_text(service, exact=True)).to_be_visible()
    # Who wrote it, that no reviewer signed the sample content off (as the API says), and the
    # disclaimer the API sends. No review is claimed.
    expect(article.locator(".review")).to_contain_text("Carebridge sample content")
    expect(article.locator("[data-review=unreviewed]")).to_be_visible()
    claim = article.locator(".review").inner_text().lower()
    assert "medically reviewed by" not in claim
    assert "medizinisch geprüft von" not in claim
    expect(article.locator(".disclaimer")).not_to_be_empty()
    steps.shot(f"mitral-{lang}-faq-open")
    # JSON-LD in the head, as search engines read it.
    ld = json.loads(page.locator('head script[type="application/ld+json"]').inner_text())
    assert ld["@type"] == "MedicalWebPage"
    assert ld["inLanguage"] == lang
    assert ld["name"] == title
    assert "reviewedBy" not in ld
    assert page.title()


def test_the_language_switch_shows_the_same_page_in_german(
    site_stack: dict[str, Any], steps: Steps
) -> None:
    page = steps.page
    page.goto(f"{site_stack['site']}/condition.html?slug={MITRAL}&lang=en")
    expect(page.locator("#document h1")).to_have_text("Mitral valve insufficiency")
    steps.shot("before-switch")
    page.get_by_label("Language").select_option("de")
    expect(page.locator("#document h1")).to_have_text("Mitralklappeninsuffizienz")
    expect(page.get_by_role("link", name="Erkrankungen")).to_be_visible()
    assert "lang=de" in page.url
    steps.shot("after-switch")


def test_search_finds_the_mitral_page_for_atemnot(site_stack: dict[str, Any], steps: Steps) -> None:
    page = steps.page
    page.goto(f"{site_stack['site']}/index.html?lang=de")
    page.get_by_role("searchbox", name="Medizinische Seiten durchsuchen").fill("Atemnot")
    steps.shot("search-typed")
    page.get_by_role("button", name="Suchen").click()
    hit = page.get_by_role("link", name="Mitralklappeninsuffizienz")
    expect(hit).to_be_visible()
    expect(page.locator("#hits mark").first).to_have_text("Atemnot")
    steps.shot("search-results")
    hit.click()
    expect(page.locator("#document h1")).to_have_text("Mitralklappeninsuffizienz")
    steps.shot("search-followed")


def test_a_search_without_hits_says_so(site_stack: dict[str, Any], steps: Steps) -> None:
    page = steps.page
    page.goto(f"{site_stack['site']}/search.html?q=Zahnseide&lang=de")
    expect(page.locator("#summary")).to_have_text("Nichts gefunden für „Zahnseide“.")
    assert page.locator("#hits li").count() == 0
    steps.shot("no-hits")
