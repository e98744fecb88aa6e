"""The editorial transitions as the domain decides them: given the record, the command and
`now`, the new state with what to record and announce, or a refusal. No database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec
import pytest

from contracts.content import ContentPublished, ContentUnpublished
from services.content.domain import editorial
from services.content.domain.documents import Document, document_decoder
from services.content.domain.editorial import DocumentRecord, Published
from services.runtime.core.errors import Conflict, Invalid, PreconditionFailed
from tests.content_samples import condition

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
EARLIER = datetime(2026, 11, 1, tzinfo=UTC)
DOCUMENT_ID = uuid.UUID(int=7)


def decoded(**changes: object) -> Document:
    doc: Document = document_decoder.decode(msgspec.json.encode(condition(**changes)))
    return doc


def record(**changes: object) -> DocumentRecord:
    fields: dict[str, object] = {
        "id": DOCUMENT_ID,
        "kind": "condition",
        "slug": "mitral-valve-insufficiency",
        "version": 3,
        "draft": condition(),
        "created_at": EARLIER,
        "updated_at": EARLIER,
        "published_revision": None,
        "published_at": None,
        "scheduled_revision": None,
        "scheduled_for": None,
    }
    return DocumentRecord(**(fields | changes))  # type: ignore[arg-type]


def published(slug: str = "mitral-valve-insufficiency", revision: int = 2) -> Published:
    return Published(
        document_id=DOCUMENT_ID,
        kind="condition",
        slug=slug,
        revision=revision,
        rendered={},
        locales=["de", "en"],
        updated_at=EARLIER,
    )


def test_publishing_marks_the_revision_published_clears_the_schedule_and_announces_it() -> None:
    scheduled = record(scheduled_revision=3, scheduled_for=NOW)

    decided = editorial.publish(
        scheduled,
        decoded(),
        revision=3,
        previous=None,
        old_slugs=(),
        existing={},
        latest_review=None,
        review_required=False,
        now=NOW,
    )

    assert (decided.record.published_revision, decided.record.published_at) == (3, NOW)
    assert (decided.record.scheduled_revision, decided.record.scheduled_for) == (None, None)
    assert decided.redirect_from is None
    assert (decided.change.action, decided.change.revision, decided.change.at) == (
        "published",
        3,
        NOW,
    )
    assert decided.event == ContentPublished(
        kind="condition",
        slug="mitral-valve-insufficiency",
        locales=("de", "en"),
        revision=3,
        published_at=NOW,
        previous_slugs=(),
    )


def test_publishing_under_a_new_slug_redirects_the_old_one_and_names_every_old_slug() -> None:
    decided = editorial.publish(
        record(),
        decoded(slug="mitral-regurgitation"),
        revision=3,
        previous=published("mitral-valve-insufficiency"),
        old_slugs=("mitral-valve-leak",),
        existing={},
        latest_review=None,
        review_required=False,
        now=NOW,
    )

    assert decided.redirect_from == "mitral-valve-insufficiency"
    assert decided.event.slug == "mitral-regurgitation"
    assert decided.event.previous_slugs == ("mitral-valve-insufficiency", "mitral-valve-leak")


def test_a_document_naming_a_missing_treatment_is_refused_with_every_problem() -> None:
    doc = decoded(icd10=[], related_treatments=["mitral-valve-repair"])

    with pytest.raises(Invalid) as refused:
        editorial.publish(
            record(),
            doc,
            revision=3,
            previous=None,
            old_slugs=(),
            existing={},
            latest_review=None,
            review_required=False,
            now=NOW,
        )

    assert sorted(p.field for p in refused.value.problems) == ["icd10", "related_treatments"]


def test_a_schedule_is_validated_when_it_is_made() -> None:
    with pytest.raises(Invalid):
        editorial.schedule(
            record(),
            decoded(icd10=[]),
            at=NOW,
            existing={},
            latest_review=None,
            review_required=False,
            now=EARLIER,
        )

    scheduled = editorial.schedule(
        record(),
        decoded(),
        at=NOW,
        existing={},
        latest_review=None,
        review_required=False,
        now=EARLIER,
    )

    assert (scheduled.scheduled_revision, scheduled.scheduled_for) == (3, NOW)
    assert scheduled.published_revision is None


def test_unpublishing_withdraws_the_served_revision_and_announces_it() -> None:
    live = record(published_revision=2, published_at=EARLIER)

    decided = editorial.unpublish(live, published(revision=2), now=NOW)

    assert (decided.record.published_revision, decided.record.published_at) == (None, None)
    assert (decided.change.action, decided.change.revision) == ("unpublished", 2)
    assert isinstance(decided.event, ContentUnpublished)
    assert (decided.event.slug, decided.event.revision, decided.event.unpublished_at) == (
        "mitral-valve-insufficiency",
        2,
        NOW,
    )


def test_unpublishing_what_is_not_published_is_refused() -> None:
    with pytest.raises(Conflict, match="is not published"):
        editorial.unpublish(record(), None, now=NOW)


def test_cancelling_a_schedule_that_does_not_exist_is_refused() -> None:
    with pytest.raises(Conflict, match="no scheduled publication"):
        editorial.cancel_schedule(record())


def test_saving_a_draft_makes_the_next_revision() -> None:
    saved = editorial.save_draft(
        record(), decoded(), slug_taken=False, author="Eva", expected_version=3, now=NOW
    )

    assert (saved.record.version, saved.record.updated_at) == (4, NOW)
    assert (saved.revision.number, saved.revision.author, saved.revision.created_at) == (
        4,
        "Eva",
        NOW,
    )


def test_saving_over_a_version_edited_since_is_refused() -> None:
    with pytest.raises(PreconditionFailed, match="at version 3, not 2"):
        editorial.save_draft(
            record(), decoded(), slug_taken=False, author="Eva", expected_version=2, now=NOW
        )


def test_taking_a_slug_another_document_holds_is_refused() -> None:
    with pytest.raises(Conflict, match="exists already"):
        editorial.create(decoded(), document_id=DOCUMENT_ID, slug_taken=True, author="Eva", now=NOW)
