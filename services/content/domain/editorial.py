"""The editorial life of a document, decided here: a draft is saved as a new revision, published
now or scheduled, its schedule cancelled, and it is unpublished. Each decision is given the
current state, the command and `now`, and returns the new state with what to record and announce
(or refuses); the use cases load, call one of these, and save."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, cast

import msgspec

from contracts.content import ContentKind, ContentPublished, ContentUnpublished
from services.content.domain.documents import Document, kind_of
from services.content.domain.publishing import publish_problems
from services.content.domain.reviews import SignOff, review_for_publication
from services.runtime.core.errors import Conflict, FieldProblem, Invalid, PreconditionFailed


class DocumentRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A document as editors see it: its current draft and where it stands."""

    id: uuid.UUID
    kind: str
    slug: str
    version: int
    draft: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    published_revision: int | None
    published_at: datetime | None
    scheduled_revision: int | None
    scheduled_for: datetime | None


class Published(msgspec.Struct, frozen=True, kw_only=True):
    """A document as readers get it: one revision, rendered for every locale it is written in."""

    document_id: uuid.UUID
    kind: str
    slug: str
    revision: int
    rendered: dict[str, Any]
    locales: list[str]
    updated_at: datetime
    # The medical sign-off of this revision, if one covers it; its status depends on the day.
    review: SignOff | None = None


class Revision(msgspec.Struct, frozen=True, kw_only=True):
    """A revision to record: the whole document as saved, by whom, and why."""

    document_id: uuid.UUID
    number: int
    body: dict[str, Any]
    author: str
    created_at: datetime
    note: str | None = None


class LoggedChange(msgspec.Struct, frozen=True, kw_only=True):
    """An entry of the change log that mirrors (`/v1/sync`) read."""

    document_id: uuid.UUID
    kind: str
    slug: str
    action: Literal["published", "unpublished"]
    revision: int
    at: datetime


class Draft(msgspec.Struct, frozen=True, kw_only=True):
    """A saved draft: the new state and the revision that records it."""

    record: DocumentRecord
    revision: Revision


class Publication(msgspec.Struct, frozen=True, kw_only=True):
    """A publication: the new state, the revision served, the old slug that now redirects
    (when the slug changed), the change log entry and the event."""

    record: DocumentRecord
    document: Document
    revision: int
    review: SignOff | None
    redirect_from: str | None
    change: LoggedChange
    event: ContentPublished


class Withdrawal(msgspec.Struct, frozen=True, kw_only=True):
    """An unpublication: the new state, the change log entry and the event."""

    record: DocumentRecord
    change: LoggedChange
    event: ContentUnpublished


def create(
    doc: Document, *, document_id: uuid.UUID, slug_taken: bool, author: str, now: datetime
) -> Draft:
    """A new document: its first draft is revision 1."""
    kind = kind_of(doc)
    if slug_taken:
        raise Conflict(f"a {kind} with the slug {doc.slug!r} exists already")
    body = msgspec.to_builtins(doc)
    record = DocumentRecord(
        id=document_id,
        kind=kind,
        slug=doc.slug,
        version=1,
        draft=body,
        created_at=now,
        updated_at=now,
        published_revision=None,
        published_at=None,
        scheduled_revision=None,
        scheduled_for=None,
    )
    return Draft(record=record, revision=_revision(record, author, note=None))


def save_draft(
    record: DocumentRecord,
    doc: Document,
    *,
    slug_taken: bool,
    author: str,
    expected_version: int | None,
    now: datetime,
    note: str | None = None,
) -> Draft:
    """A new revision of the draft; `expected_version` (If-Match) guards against lost updates.
    `slug_taken`: whether another document holds or redirects from the draft's slug."""
    check_version(record, expected_version)
    if slug_taken:
        raise Conflict(f"a {record.kind} with the slug {doc.slug!r} exists already")
    saved = msgspec.structs.replace(
        record,
        slug=doc.slug,
        draft=msgspec.to_builtins(doc),
        version=record.version + 1,
        updated_at=now,
    )
    return Draft(record=saved, revision=_revision(saved, author, note=note))


def check_kind(kind: str, doc: Document) -> None:
    """A draft saved under a collection must be a document of that collection's kind."""
    if kind_of(doc) != kind:
        raise Invalid([FieldProblem(field="kind", message=f"this document is a {kind}")])


def check_version(record: DocumentRecord, expected: int | None) -> None:
    if expected is not None and expected != record.version:
        raise PreconditionFailed(
            f"{record.kind} {record.slug!r} is at version {record.version}, not {expected}; "
            "reload it and apply your change again"
        )


def schedule(
    record: DocumentRecord,
    doc: Document,
    *,
    at: datetime,
    existing: Mapping[str, frozenset[str]],
    latest_review: SignOff | None,
    review_required: bool,
    now: datetime,
) -> DocumentRecord:
    """Publish the current draft at `at`. Validated now as well as then, so a schedule that
    could not go out is refused up front."""
    refuse_unpublishable(doc, existing)
    review_for_publication(
        record.kind, record.slug, record.version, latest_review, required=review_required, now=now
    )
    return msgspec.structs.replace(record, scheduled_revision=record.version, scheduled_for=at)


def cancel_schedule(record: DocumentRecord) -> DocumentRecord:
    if record.scheduled_for is None:
        raise Conflict(f"{record.kind} {record.slug!r} has no scheduled publication")
    return msgspec.structs.replace(record, scheduled_revision=None, scheduled_for=None)


def publish(
    record: DocumentRecord,
    doc: Document,
    *,
    revision: int,
    previous: Published | None,
    old_slugs: Sequence[str],
    existing: Mapping[str, frozenset[str]],
    latest_review: SignOff | None,
    review_required: bool,
    now: datetime,
) -> Publication:
    """Publish `revision` (the draft `doc`) now. `previous` is what readers get today and
    `old_slugs` the slugs that already redirect to this document. Related documents must
    exist; they need not be published yet (a condition and its treatments name each other, so
    neither could go first). `latest_review` is the document's latest sign-off: it goes out
    with the publication if it covers `revision`; `review_required` refuses a medical document
    without one."""
    refuse_unpublishable(doc, existing)
    review = review_for_publication(
        record.kind, doc.slug, revision, latest_review, required=review_required, now=now
    )
    redirect_from = previous.slug if previous is not None and previous.slug != doc.slug else None
    slugs = {*old_slugs, redirect_from} - {None}
    return Publication(
        record=_standing(record, published_revision=revision, published_at=now),
        document=doc,
        revision=revision,
        review=review,
        redirect_from=redirect_from,
        change=_logged(record, doc.slug, "published", revision, now),
        event=ContentPublished(
            kind=cast(ContentKind, record.kind),  # one of the documents table's kinds
            slug=doc.slug,
            locales=tuple(sorted(doc.translations)),
            revision=revision,
            published_at=now,
            previous_slugs=tuple(sorted(cast(set[str], slugs))),
        ),
    )


def unpublish(record: DocumentRecord, current: Published | None, *, now: datetime) -> Withdrawal:
    """Take the published document down; its draft stays as it is."""
    if current is None:
        raise Conflict(f"{record.kind} {record.slug!r} is not published")
    return Withdrawal(
        record=_standing(record, published_revision=None, published_at=None),
        change=_logged(record, current.slug, "unpublished", current.revision, now),
        event=ContentUnpublished(
            kind=cast(ContentKind, record.kind),  # one of the documents table's kinds
            slug=current.slug,
            locales=tuple(current.locales),
            revision=current.revision,
            unpublished_at=now,
        ),
    )


def refuse_unpublishable(doc: Document, existing: Mapping[str, frozenset[str]]) -> None:
    """Every reason `doc` may not be published, at once, as one refusal."""
    problems = publish_problems(doc, existing)
    if problems:
        raise Invalid(problems)


def _standing(
    record: DocumentRecord, *, published_revision: int | None, published_at: datetime | None
) -> DocumentRecord:
    """Published (or not) as given; a publication or withdrawal ends any schedule."""
    return msgspec.structs.replace(
        record,
        published_revision=published_revision,
        published_at=published_at,
        scheduled_revision=None,
        scheduled_for=None,
    )


def _logged(
    record: DocumentRecord,
    slug: str,
    action: Literal["published", "unpublished"],
    revision: int,
    now: datetime,
) -> LoggedChange:
    return LoggedChange(
        document_id=record.id,
        kind=record.kind,
        slug=slug,
        action=action,
        revision=revision,
        at=now,
    )


def _revision(record: DocumentRecord, author: str, *, note: str | None) -> Revision:
    return Revision(
        document_id=record.id,
        number=record.version,
        body=record.draft,
        author=author,
        created_at=record.updated_at,
        note=note,
    )
