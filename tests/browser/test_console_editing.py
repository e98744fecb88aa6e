"""The editors' and medical reviewers' console pages in a real browser against the whole local
stack: a draft edited with a Markdown preview, its revisions compared, published and served by
the content API; a publication scheduled and cancelled; a save on a stale version shown as a
conflict that overwrites nothing; bad input refused with a clear error; a medical reviewer's
sign-off that readers then see as `reviewed`, and an editor refused it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Steps
from tests.browser.test_accessibility import violations
from tests.browser.test_console import sign_in

pytestmark = pytest.mark.browser


class Fresh:
    """A condition made for one test (a copy of a seed document under a new slug), so tests
    change nothing the site's tests read; unpublished again afterwards."""

    def __init__(self, stack: dict[str, Any], content: httpx.Client) -> None:
        self.stack = stack
        self.content = content
        self.editor = _auth(stack, "editor")
        seed = content.get("/v1/editorial/conditions/heart-failure", headers=self.editor)
        assert seed.status_code == 200, seed.text
        body = seed.json()["draft"]
        self.slug = f"console-{uuid.uuid4().hex[:10]}"
        body["slug"] = self.slug
        created = content.post("/v1/editorial/documents", json=body, headers=self.editor)
        assert created.status_code == 201, created.text
        self.path = f"/v1/editorial/conditions/{self.slug}"
        self.page_path = f"{stack['console']}/editor/conditions/{self.slug}"

    def state(self) -> dict[str, Any]:
        found = self.content.get(self.path, headers=self.editor)
        assert found.status_code == 200, found.text
        state: dict[str, Any] = found.json()
        return state

    def english(self) -> dict[str, Any]:
        text: dict[str, Any] = self.state()["draft"]["translations"]["en"]
        return text

    def served(self) -> httpx.Response:
        return self.content.get(f"/v1/conditions/{self.slug}", params={"locale": "en"})


def _auth(stack: dict[str, Any], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack['credentials']['staff'][role]}"}


@pytest.fixture
def fresh(site_stack: dict[str, Any]) -> Iterator[Fresh]:
    with httpx.Client(base_url=site_stack["services"]["content"], timeout=10) as content:
        made = Fresh(site_stack, content)
        yield made
        if made.state()["published_revision"] is not None:
            content.post(f"{made.path}/unpublish", headers=made.editor)


def open_document(page: Page, fresh: Fresh) -> None:
    page.goto(fresh.page_path)
    expect(page.get_by_role("heading", name=fresh.slug, exact=True)).to_be_visible()


def test_an_editor_edits_previews_compares_and_publishes_a_draft(
    site_stack: dict[str, Any], steps: Steps, axe_source: str, fresh: Fresh
) -> None:
    page = sign_in(steps, site_stack, "editor")
    page.get_by_role("link", name="Documents").click()
    page.get_by_label("Standing").select_option("draft")
    page.get_by_role("button", name="Filter").click()
    row = page.locator(f"tr[data-document={fresh.slug}]")
    expect(row).to_have_attribute("data-standing", "draft")
    steps.shot("drafts")
    assert violations(page, axe_source) == []

    row.get_by_role("link", name=fresh.slug).click()
    version = fresh.state()["version"]
    expect(page.locator("[data-version]")).to_have_text(str(version))
    title = f"Heart failure, explained {fresh.slug}"
    page.get_by_label("Title").fill(title)
    page.locator("#section_0_body").fill("Now in **plain words**:\n\n- breathless\n- tired")
    page.get_by_role("button", name="Preview", exact=True).click()
    # The Markdown rendered on the server, as content will publish it; nothing saved yet.
    expect(page.locator("[data-preview] strong").first).to_have_text("plain words")
    expect(page.locator("[data-preview] ul").first.locator("li")).to_have_count(2)
    expect(page.get_by_label("Title")).to_have_value(title)
    assert fresh.state()["version"] == version
    steps.shot("preview")
    assert violations(page, axe_source) == []

    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("[data-done=saved]")).to_be_visible()
    expect(page.locator("[data-version]")).to_have_text(str(version + 1))
    assert fresh.english()["title"] == title
    steps.shot("saved")

    page.get_by_role("link", name=f"Changes in {version + 1}").click()
    expect(page.locator("dt[data-path='translations.en.title']")).to_be_visible()
    expect(page.locator("ins").filter(has_text="plain words").first).to_contain_text("added:")
    expect(page.locator("del").first).to_contain_text("removed:")
    steps.shot("diff")
    assert violations(page, axe_source) == []

    page.get_by_role("link", name=fresh.slug).click()
    page.get_by_role("button", name="Publish this version now").click()
    expect(page.locator("[data-done=published]")).to_be_visible()
    served = fresh.served()
    assert served.status_code == 200, served.text
    assert served.json()["title"] == title
    assert "<strong>plain words</strong>" in served.json()["sections"][0]["body_html"]
    steps.shot("published")


def test_a_publication_is_scheduled_and_cancelled_and_a_bad_date_changes_nothing(
    site_stack: dict[str, Any], steps: Steps, axe_source: str, fresh: Fresh
) -> None:
    page = sign_in(steps, site_stack, "editor")
    open_document(page, fresh)
    # A browser's date picker sends only well-formed times: a hand-made request may not.
    page.locator("#at").evaluate("input => { input.type = 'text'; input.value = '31.02.2027' }")
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator("[data-refusal=refused]")).to_be_visible()
    expect(page.get_by_text("at must be a date and time")).to_be_visible()
    assert fresh.state()["scheduled_for"] is None
    steps.shot("bad-date")

    open_document(page, fresh)
    when = datetime.now(UTC) + timedelta(days=30)
    page.get_by_label("Publish at (clinic time)").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator("[data-done=scheduled]")).to_be_visible()
    expect(page.locator("[data-scheduled]")).to_be_visible()
    state = fresh.state()
    assert state["scheduled_for"] is not None
    assert state["scheduled_revision"] == state["version"]
    steps.shot("scheduled")
    assert violations(page, axe_source) == []

    page.goto(f"{site_stack['console']}/editor?collection=conditions&status=scheduled")
    expect(page.locator(f"tr[data-document={fresh.slug}]")).to_have_attribute(
        "data-standing", "scheduled"
    )
    open_document(page, fresh)
    page.get_by_role("button", name="Cancel the scheduled publication").click()
    expect(page.locator("[data-done=unscheduled]")).to_be_visible()
    assert fresh.state()["scheduled_for"] is None


def test_a_save_on_a_stale_version_shows_what_changed_and_overwrites_nothing(
    site_stack: dict[str, Any], steps: Steps, axe_source: str, fresh: Fresh
) -> None:
    page = sign_in(steps, site_stack, "editor")
    open_document(page, fresh)
    # Someone else saves first.
    state = fresh.state()
    body = state["draft"]
    body["translations"]["en"]["summary"] = "Changed elsewhere meanwhile."
    theirs = fresh.content.put(
        fresh.path, json=body, headers={**fresh.editor, "If-Match": f'"{state["version"]}"'}
    )
    assert theirs.status_code == 200, theirs.text

    page.get_by_label("Title").fill("Mine, on the old version")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("[data-refusal=conflict]")).to_contain_text("Someone changed this document")
    expect(page.locator("dt[data-path='translations.en.summary']")).to_be_visible()
    expect(page.locator("ins").filter(has_text="elsewhere").first).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Mine, on the old version")
    after = fresh.state()
    assert after["version"] == state["version"] + 1
    assert after["draft"]["translations"]["en"]["summary"] == "Changed elsewhere meanwhile."
    assert after["draft"]["translations"]["en"]["title"] != "Mine, on the old version"
    steps.shot("conflict")
    assert violations(page, axe_source) == []


def test_an_empty_title_is_refused_with_a_clear_error_and_nothing_saved(
    site_stack: dict[str, Any], steps: Steps, fresh: Fresh
) -> None:
    page = sign_in(steps, site_stack, "editor")
    open_document(page, fresh)
    before = fresh.state()
    # Blanks pass the browser's `required`; the console refuses them.
    page.get_by_label("Title").fill("   ")
    page.get_by_label("Summary (plain text)").fill("A summary kept on the form.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("[data-problem]")).to_contain_text("title must not be empty")
    expect(page.get_by_label("Summary (plain text)")).to_have_value("A summary kept on the form.")
    assert fresh.state()["version"] == before["version"]
    steps.shot("empty-title")
    # The form still names the version it was opened on: saved after someone else's change,
    # it is a conflict, not a silent overwrite.
    expect(page.locator("form.document input[name=version]")).to_have_value(str(before["version"]))


def test_an_editor_sees_the_review_queue_and_the_documents_that_need_review(
    site_stack: dict[str, Any], steps: Steps, axe_source: str
) -> None:
    page = sign_in(steps, site_stack, "editor")
    page.goto(f"{site_stack['console']}/review")
    page.get_by_label("Review status").select_option("unreviewed")
    page.get_by_role("button", name="Filter").click()
    # The seed is published unreviewed on the local stack.
    row = page.locator("tr[data-queued=heart-failure]")
    expect(row).to_contain_text("unreviewed")
    steps.shot("review-queue")
    assert violations(page, axe_source) == []
    page.goto(f"{site_stack['console']}/editor?collection=conditions&status=needs_review")
    expect(page.locator("tr[data-document=heart-failure]")).to_contain_text("unreviewed")
    steps.shot("needs-review")


def test_a_medical_reviewer_signs_off_and_readers_are_told_it_is_reviewed(
    site_stack: dict[str, Any], steps: Steps, axe_source: str, fresh: Fresh
) -> None:
    profile = fresh.content.put(
        "/v1/editorial/reviewers/local-medical_reviewer",
        json={"name": "Dr. Local Reviewer", "qualification": "Specialist in cardiology"},
        headers=_auth(site_stack, "admin"),
    )
    assert profile.status_code == 200, profile.text
    page = sign_in(steps, site_stack, "editor")
    open_document(page, fresh)
    page.get_by_role("button", name="Make a preview link").click()
    preview_url = page.locator("[data-preview-link]").input_value()
    review_url = page.locator("[data-review-link]").input_value()
    # The link is the credential: it shows the draft without a staff token.
    assert httpx.get(preview_url, timeout=10).status_code == 200
    steps.shot("links")
    assert violations(page, axe_source) == []

    due = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()
    page.goto(review_url)
    page.get_by_label("Next review due").fill(due)
    page.get_by_role("button", name="Sign off").click()
    expect(page.locator("[data-refusal=not_allowed]")).to_be_visible()
    assert fresh.content.get(f"{fresh.path}/sign-offs", headers=fresh.editor).json() == []
    steps.shot("editor-refused")
    page.get_by_role("button", name="Sign out").click()

    page = sign_in(steps, site_stack, "medical_reviewer")
    # A reviewer starts on the review page, where the API's refusal of the queue is explained.
    expect(page.locator("[data-refusal=queue]")).to_be_visible()
    expect(page.get_by_role("link", name="Medical review")).to_be_visible()
    steps.shot("reviewer-queue")
    assert violations(page, axe_source) == []
    page.goto(review_url)
    expect(page.locator("[data-revision]")).to_have_text(str(fresh.state()["version"]))
    expect(page.locator("[data-review]")).to_have_text("unreviewed")
    steps.shot("review")
    assert violations(page, axe_source) == []
    page.get_by_label("Next review due").fill(due)
    page.get_by_label("Note (optional)").fill("Checked against the ESC 2025 guideline.")
    page.get_by_role("button", name="Sign off").click()
    expect(page.locator(f"[data-signed='conditions/{fresh.slug}']")).to_be_visible()
    steps.shot("signed-off")
    page.get_by_role("button", name="Sign out").click()

    page = sign_in(steps, site_stack, "editor")
    open_document(page, fresh)
    expect(page.locator(f"[data-sign-off='{fresh.state()['version']}']")).to_contain_text(
        "Dr. Local Reviewer"
    )
    page.get_by_role("button", name="Publish this version now").click()
    expect(page.locator("[data-done=published]")).to_be_visible()
    review = fresh.served().json()["trust"]["review"]
    assert review["status"] == "reviewed"
    assert review["reviewed_by"]["name"] == "Dr. Local Reviewer"
    assert review["next_review_due"] == due
