"""axe-core (the npm package, its axe.min.js injected into each page) finds no serious or
critical violation on the example site's pages and in the widget, in its states a patient
meets: empty, with errors, answered, and the status view with a timeline."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Steps
from tests.browser.test_widget import MITRAL, fill_in, open_widget, submit_by_api

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")


def violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe's serious and critical violations on the page as it is now (shadow roots included)."""
    page.add_script_tag(content=axe_source)
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' '))}))"""
    )
    return [v for v in found if v["impact"] in BLOCKING]


@pytest.mark.parametrize(
    "path",
    [
        "/index.html?lang=en",
        f"/condition.html?slug={MITRAL}&lang=de",
        "/search.html?q=Atemnot&lang=de",
        f"/condition.html?slug={MITRAL}&lang=ar",
    ],
)
def test_the_example_sites_pages_have_no_serious_accessibility_violation(
    site_stack: dict[str, Any], steps: Steps, axe_source: str, path: str
) -> None:
    page = steps.page
    page.goto(site_stack["site"] + path)
    expect(page.locator("[aria-busy]")).to_have_count(0)
    if "search" in path:
        expect(page.locator("#hits li").first).to_be_visible()
    steps.shot("page")
    assert violations(page, axe_source) == []


def test_the_widget_has_no_serious_accessibility_violation_in_any_state(
    site_stack: dict[str, Any], steps: Steps, axe_source: str
) -> None:
    with httpx.Client(base_url=site_stack["services"]["inquiries"], timeout=10) as inquiries:
        answer = submit_by_api(inquiries, site_stack)
    page = steps.page
    form = open_widget(steps, site_stack["site"], "en")
    steps.shot("empty")
    assert violations(page, axe_source) == []

    form.get_by_role("button", name="Send inquiry").click()
    expect(form.get_by_role("alert")).not_to_be_empty()
    steps.shot("errors")
    assert violations(page, axe_source) == []

    fill_in(form)
    form.get_by_role("button", name="Send inquiry").click()
    expect(form.locator("[data-access-token]")).to_be_visible()
    steps.shot("answered")
    assert violations(page, axe_source) == []

    status = page.locator("carebridge-status")
    status.get_by_label("Inquiry number").fill(answer["id"])
    status.get_by_label("Access token").fill(answer["access_token"])
    # Keyboard only: Enter in the token field sends the form.
    status.get_by_label("Access token").press("Enter")
    expect(status.locator("ol.timeline li").first).to_be_visible()
    steps.shot("status")
    assert violations(page, axe_source) == []

    open_widget(steps, site_stack["site"], "ar")
    steps.shot("arabic")
    assert violations(page, axe_source) == []
