"""Medical review as the domain decides it: who may sign a revision off, which sign-off a
publication carries, and what readers are told on a given day. No database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from services.content.domain import reviews
from services.content.domain.documents import document_decoder
from services.content.domain.editorial import DocumentRecord, Published
from services.content.domain.reviews import ReviewerProfile, SignOff
from services.content.publication import render
from services.content.representation import document, expires_at, json_ld
from services.runtime.core.errors import Conflict, Forbidden, Invalid
from tests.content_samples import condition

NOW = datetime(2026, 12, 5, 10, tzinfo=UTC)
PROFILE = ReviewerProfile(
    person="rita", name="Test Reviewer", qualification="Cardiologist", registration_number="R-1"
)


def record(kind: str = "condition", version: int = 2) -> DocumentRecord:
    return DocumentRecord(
        id=uuid.UUID(int=1),
        kind=kind,
        slug="mitral-valve-insufficiency",
        version=version,
        draft={},
        created_at=NOW,
        updated_at=NOW,
        published_revision=None,
        published_at=None,
        scheduled_revision=None,
        scheduled_for=None,
    )


def sign(
    *,
    person: str = "rita",
    profile: ReviewerProfile | None = PROFILE,
    revision: int = 2,
    authors: frozenset[str] = frozenset({"eva"}),
    due: date = date(2027, 12, 1),
    kind: str = "condition",
) -> SignOff:
    return reviews.sign_off(
        record(kind),
        person=person,
        profile=profile,
        revision=revision,
        authors=authors,
        next_review_due=due,
        now=NOW,
    )


def test_a_reviewer_signs_off_the_current_revision_as_their_profile_names_them() -> None:
    signed = sign()

    assert (signed.revision, signed.reviewed_at, signed.next_review_due) == (
        2,
        NOW,
        date(2027, 12, 1),
    )
    assert signed.reviewer.name == "Test Reviewer"
    assert signed.reviewer.registration_number == "R-1"


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"authors": frozenset({"eva", "rita"})}, Forbidden),
        ({"profile": None}, Forbidden),
        ({"profile": msgspec.structs.replace(PROFILE, active=False)}, Forbidden),
        ({"revision": 1}, Conflict),
        ({"kind": "service"}, Conflict),
        ({"due": date(2026, 12, 5)}, Invalid),
        ({"due": date(2030, 1, 1)}, Invalid),
    ],
)
def test_a_sign_off_is_refused(changes: dict[str, object], refusal: type[Exception]) -> None:
    with pytest.raises(refusal):
        sign(**changes)  # type: ignore[arg-type]


def test_a_publication_carries_only_a_current_sign_off_of_its_own_revision() -> None:
    signed = sign()
    publish = reviews.review_for_publication

    assert publish("condition", "x", 2, signed, required=True, now=NOW) == signed
    assert publish("condition", "x", 3, signed, required=False, now=NOW) is None
    with pytest.raises(Conflict):
        publish("condition", "x", 3, signed, required=True, now=NOW)
    with pytest.raises(Conflict):
        publish("treatment", "x", 2, None, required=True, now=NOW)
    late = NOW + timedelta(days=400)
    with pytest.raises(Conflict):
        publish("condition", "x", 2, signed, required=True, now=late)
    assert publish("service", "x", 2, None, required=True, now=NOW) is None


def test_a_review_reads_overdue_from_the_day_after_it_was_due() -> None:
    signed = sign(due=date(2027, 1, 10))

    on_the_day = datetime(2027, 1, 10, 23, 59, tzinfo=UTC)
    next_day = datetime(2027, 1, 11, tzinfo=UTC)

    assert reviews.review_state(signed, on_the_day).status == "reviewed"
    assert reviews.review_state(signed, next_day).status == "overdue"
    assert reviews.review_state(None, NOW) == reviews.UNREVIEWED
    assert reviews.status_changes_at(signed, NOW) == next_day
    assert reviews.status_changes_at(signed, next_day) is None


def served(review: SignOff | None) -> Published:
    doc = document_decoder.decode(
        msgspec.json.encode(condition(related_treatments=["mitral-valve-repair", "teer"]))
    )
    return Published(
        document_id=uuid.UUID(int=1),
        kind="condition",
        slug="mitral-valve-insufficiency",
        revision=2,
        rendered=msgspec.json.decode(msgspec.json.encode(render(doc))),
        locales=["de", "en"],
        updated_at=NOW,
        review=review,
    )


def test_json_ld_claims_a_reviewer_only_while_the_review_is_current() -> None:
    signed = sign(due=date(2027, 1, 10))
    kinds = {"mitral-valve-repair": "surgery", "teer": "catheter-procedure"}

    current = json_ld(served(signed), "en", NOW, kinds)
    overdue = json_ld(served(signed), "en", datetime(2027, 2, 1, tzinfo=UTC), kinds)
    unreviewed = json_ld(served(None), "en", NOW, kinds)

    assert current["reviewedBy"]["name"] == "Test Reviewer"
    assert current["lastReviewed"] == "2026-12-05"
    for page in (overdue, unreviewed):
        assert "reviewedBy" not in page
        assert "lastReviewed" not in page
    assert [t["@type"] for t in current["about"]["possibleTreatment"]] == [
        "SurgicalProcedure",
        "TherapeuticProcedure",
    ]
    assert current["about"]["code"] == [
        {"@type": "MedicalCode", "codeValue": "I34.0", "codingSystem": "ICD-10"}
    ]
    assert document(served(None), "en", NOW)["trust"]["review"]["status"] == "unreviewed"
    assert expires_at([served(signed), served(None)], NOW) == (
        datetime(2027, 1, 11, tzinfo=UTC).timestamp()
    )
