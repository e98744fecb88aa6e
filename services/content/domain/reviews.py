"""Medical review: who may sign a medical document off, what a sign-off covers, when a document
may go out without one, and what a reader is told about it at a given moment.

A sign-off is given by a staff person holding the `medical_reviewer` role and a reviewer profile
(name, qualification, registration number: what a reader is shown), for one revision of the
draft, by someone who wrote none of its revisions. It covers that revision only: any later save
is a new revision and needs a new sign-off. Whether a document reads `reviewed` or `overdue`
depends on the day it is read, so it is decided here from `now`, never stored."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec

from services.content.domain.documents import ShortText
from services.runtime.core.errors import Conflict, FieldProblem, Forbidden, Invalid

if TYPE_CHECKING:  # editorial imports this module to decide publications
    from services.content.domain.editorial import DocumentRecord

# The documents that make medical statements; service offerings do not.
MEDICAL_KINDS = frozenset({"condition", "treatment"})
# Health publishers review at least every three years; a sign-off promises no longer.
MAX_REVIEW_INTERVAL_DAYS = 3 * 365 + 1
ReviewStatus = Literal["reviewed", "unreviewed", "overdue"]
RegistrationNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ReviewerProfile(msgspec.Struct, frozen=True, kw_only=True):
    """A medical reviewer as readers are told of them, kept per staff person by admins."""

    person: str
    name: ShortText
    qualification: ShortText
    registration_number: RegistrationNumber | None = None
    active: bool = True


class Reviewer(msgspec.Struct, frozen=True, kw_only=True):
    """The reviewer as a sign-off recorded them: a copy, so a later profile edit never
    rewrites who signed an earlier revision off."""

    person: str
    name: str
    qualification: str
    registration_number: str | None = None


class SignOff(msgspec.Struct, frozen=True, kw_only=True):
    document_id: uuid.UUID
    revision: int
    reviewer: Reviewer
    reviewed_at: datetime
    next_review_due: date
    note: str | None = None


class ReviewedBy(msgspec.Struct, frozen=True, kw_only=True):
    """What readers learn of the reviewer (not the staff identity behind it)."""

    name: str
    qualification: str
    registration_number: str | None


class ReviewState(msgspec.Struct, frozen=True, kw_only=True):
    """`trust.review` of a served document."""

    status: ReviewStatus
    reviewed_by: ReviewedBy | None
    reviewed_at: datetime | None
    next_review_due: date | None


UNREVIEWED = ReviewState(
    status="unreviewed", reviewed_by=None, reviewed_at=None, next_review_due=None
)


def sign_off(
    record: DocumentRecord,
    *,
    person: str,
    profile: ReviewerProfile | None,
    revision: int,
    authors: frozenset[str],
    next_review_due: date,
    now: datetime,
    note: str | None = None,
) -> SignOff:
    """`person` signs `revision` of the document off. `authors`: everyone who saved one of its
    revisions. Refused: no active reviewer profile, the reviewer's own text, a revision that is
    not the current draft, a document that is not medical, a review date that is not ahead."""
    if profile is None or not profile.active:
        raise Forbidden(
            f"{person!r} has no active medical reviewer profile; an admin adds it "
            "(PUT /v1/editorial/reviewers/{person})"
        )
    if person in authors:
        raise Forbidden(
            f"{person!r} wrote a revision of {record.kind} {record.slug!r}: "
            "a medical reviewer may not sign off their own text"
        )
    if record.kind not in MEDICAL_KINDS:
        raise Conflict(f"a {record.kind} makes no medical statements and takes no sign-off")
    if revision != record.version:
        raise Conflict(
            f"{record.kind} {record.slug!r} is at revision {record.version}, not {revision}; "
            "review the current draft"
        )
    problems = _due_problems(next_review_due, now.date())
    if problems:
        raise Invalid(problems)
    return SignOff(
        document_id=record.id,
        revision=revision,
        reviewer=Reviewer(
            person=profile.person,
            name=profile.name,
            qualification=profile.qualification,
            registration_number=profile.registration_number,
        ),
        reviewed_at=now,
        next_review_due=next_review_due,
        note=note,
    )


def review_for_publication(
    kind: str, slug: str, revision: int, latest: SignOff | None, *, required: bool, now: datetime
) -> SignOff | None:
    """The sign-off a publication of `revision` carries: `latest` if it covers that revision
    (a sign-off of an earlier one does not) and is not overdue. When review is `required`, a
    medical document without one is refused; otherwise it goes out unreviewed."""
    covering = latest if latest is not None and latest.revision == revision else None
    if covering is not None and is_overdue(covering, now):
        covering = None
    if required and kind in MEDICAL_KINDS and covering is None:
        raise Conflict(
            f"{kind} {slug!r} revision {revision} has no current medical sign-off: a medical "
            "reviewer who did not write it must sign this revision off "
            f"(POST /v1/editorial/{kind}s/{slug}/sign-offs) before it is published"
        )
    return covering


def review_state(review: SignOff | None, now: datetime) -> ReviewState:
    """What a reader is told at `now`: reviewed, overdue (past `next_review_due`), or
    unreviewed (no sign-off covers the published revision)."""
    if review is None:
        return UNREVIEWED
    return ReviewState(
        status="overdue" if is_overdue(review, now) else "reviewed",
        reviewed_by=ReviewedBy(
            name=review.reviewer.name,
            qualification=review.reviewer.qualification,
            registration_number=review.reviewer.registration_number,
        ),
        reviewed_at=review.reviewed_at,
        next_review_due=review.next_review_due,
    )


def is_overdue(review: SignOff, now: datetime) -> bool:
    return now >= overdue_from(review)


def overdue_from(review: SignOff) -> datetime:
    """The moment a sign-off turns overdue: the day after `next_review_due` begins (UTC).
    Cached answers expire then, so the change reaches readers with no event."""
    return datetime.combine(review.next_review_due + timedelta(days=1), time(), tzinfo=UTC)


def status_changes_at(review: SignOff | None, now: datetime) -> datetime | None:
    """When what `review_state` says next changes on its own, if it ever does."""
    if review is None or is_overdue(review, now):
        return None
    return overdue_from(review)


def _due_problems(next_due: date, today: date) -> list[FieldProblem]:
    if next_due <= today:
        return [FieldProblem(field="next_review_due", message="must be after today")]
    if (next_due - today).days > MAX_REVIEW_INTERVAL_DAYS:
        return [FieldProblem(field="next_review_due", message="must be within three years")]
    return []
