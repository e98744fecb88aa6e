"""Medical review through the HTTP doors, with review required (CONTENT_REQUIRE_REVIEW=true): a
reviewer profile kept by an admin, sign-offs by medical reviewers who did not write the text,
publication refused without one, `trust.review` and JSON-LD as readers get them, and a review
falling overdue with time, cached answers included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.content.app import ContentSettings, create_app
from services.content.clock import Clock
from services.runtime.access import staff
from services.runtime.core.settings import load_settings
from tests.content_samples import condition, treatment

Client = AsyncTestClient[Litestar]
Headers = dict[str, str]
PATH = "/v1/editorial/conditions/mitral-valve-insufficiency"
PUBLIC = "/v1/conditions/mitral-valve-insufficiency"
LD = {"Accept": "application/ld+json"}


class FakeTime:
    """Unix seconds that a test moves forward: the app's clock and its cache's."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, days: int) -> None:
        self.now += days * 86_400


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def client(
    content_settings: ContentSettings, time_: FakeTime
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = load_settings(
        ContentSettings,
        environ={
            **{k.upper(): str(v) for k, v in _fields(content_settings).items()},
            "CONTENT_REQUIRE_REVIEW": "true",
        },
    )
    assert settings.content_require_review
    app = create_app(settings, Clock(time_))
    async with AsyncTestClient(app, raise_server_exceptions=False) as c:
        yield c


def _fields(settings: ContentSettings) -> dict[str, Any]:
    return {
        f: getattr(settings, f)
        for f in settings.__struct_fields__
        if getattr(settings, f) is not None
    }


async def _token(db: asyncpg.Connection, person: str, *roles: staff.Role) -> Headers:
    _, token = await staff.create_token(db, person=person, roles=roles)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def admin(db: asyncpg.Connection) -> Headers:
    return await _token(db, "Ada Admin", "admin")


@pytest.fixture
async def reviewer(client: Client, db: asyncpg.Connection, admin: Headers) -> Headers:
    """A medical reviewer with a profile (as an admin keeps it)."""
    profile = await client.put(
        "/v1/editorial/reviewers/rita-reviewer",
        json={
            "name": "Test Reviewer",
            "qualification": "Specialist in cardiology",
            "registration_number": "TEST-0001",
        },
        headers=admin,
    )
    assert profile.status_code == 200, profile.text
    return await _token(db, "rita-reviewer", "medical_reviewer")


def _due(days: int = 365) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


async def _create(client: Client, editor: Headers, doc: dict[str, Any] | None = None) -> None:
    created = await client.post("/v1/editorial/documents", json=doc or condition(), headers=editor)
    assert created.status_code == 201, created.text


async def _sign(
    client: Client, reviewer: Headers, revision: int = 1, due: str | None = None, path: str = PATH
) -> Any:
    return await client.post(
        f"{path}/sign-offs",
        json={"revision": revision, "next_review_due": due or _due()},
        headers=reviewer,
    )


async def test_a_document_signed_off_only_by_its_author_cannot_be_published(
    client: Client, db: asyncpg.Connection, admin: Headers
) -> None:
    author = await _token(db, "sam-author", "editor", "medical_reviewer")
    await client.put(
        "/v1/editorial/reviewers/sam-author",
        json={"name": "Test Author", "qualification": "Cardiologist"},
        headers=admin,
    )
    await _create(client, author)

    own = await _sign(client, author)
    published = await client.post(f"{PATH}/publish", headers=author)

    assert own.status_code == 403, own.text
    assert "may not sign off their own text" in own.json()["detail"]
    assert published.status_code == 409, published.text
    assert published.headers["content-type"].startswith("application/problem+json")
    assert "medical sign-off" in published.json()["detail"]
    assert (await client.get(PUBLIC)).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM content.sign_offs") == 0


async def test_staff_who_are_not_medical_reviewers_cannot_sign_off(
    client: Client, db: asyncpg.Connection, editor: Headers
) -> None:
    await _create(client, editor)
    no_profile = await _token(db, "no-profile", "medical_reviewer")

    by_editor = await _sign(client, editor)
    without_profile = await _sign(client, no_profile)

    assert by_editor.status_code == 403
    assert "medical_reviewer" in by_editor.json()["detail"]
    assert without_profile.status_code == 403
    assert "no active medical reviewer profile" in without_profile.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM content.sign_offs") == 0


async def test_a_reviewer_profile_is_kept_by_admins_only(
    client: Client, editor: Headers, reviewer: Headers, admin: Headers
) -> None:
    by_editor = await client.put(
        "/v1/editorial/reviewers/x", json={"name": "X", "qualification": "Y"}, headers=editor
    )
    listed = await client.get("/v1/editorial/reviewers", headers=admin)

    assert by_editor.status_code == 403
    assert listed.json() == [
        {
            "person": "rita-reviewer",
            "name": "Test Reviewer",
            "qualification": "Specialist in cardiology",
            "registration_number": "TEST-0001",
            "active": True,
        }
    ]


async def test_publishing_without_a_sign_off_is_refused_when_review_is_required(
    client: Client, editor: Headers
) -> None:
    await _create(client, editor)

    now = await client.post(f"{PATH}/publish", headers=editor)
    later = await client.post(
        f"{PATH}/publish", json={"at": "2099-01-05T08:00:00Z"}, headers=editor
    )

    assert now.status_code == later.status_code == 409
    state = (await client.get(PATH, headers=editor)).json()
    assert (state["published_revision"], state["scheduled_for"]) == (None, None)


async def test_a_change_of_the_text_after_the_sign_off_needs_a_new_one(
    client: Client, editor: Headers, reviewer: Headers
) -> None:
    await _create(client, editor)
    assert (await _sign(client, reviewer, revision=1)).status_code == 201
    changed = condition(icd10=["I34.0", "I34.1"])
    saved = await client.put(PATH, json=changed, headers=editor)
    assert saved.json()["version"] == 2

    refused = await client.post(f"{PATH}/publish", headers=editor)
    stale = await _sign(client, reviewer, revision=1)
    fresh = await _sign(client, reviewer, revision=2)
    published = await client.post(f"{PATH}/publish", headers=editor)

    assert refused.status_code == 409
    assert "revision 2 has no current medical sign-off" in refused.json()["detail"]
    assert stale.status_code == 409
    assert "review the current draft" in stale.json()["detail"]
    assert fresh.status_code == 201
    assert fresh.json()["revision"] == 2
    assert fresh.json()["reviewer"]["person"] == "rita-reviewer"
    assert published.status_code == 200, published.text
    sign_offs = (await client.get(f"{PATH}/sign-offs", headers=editor)).json()
    assert [s["revision"] for s in sign_offs] == [1, 2]


async def test_a_reviewed_document_says_who_reviewed_it_and_when(
    client: Client, editor: Headers, reviewer: Headers
) -> None:
    await _create(client, editor)
    signed = await _sign(client, reviewer, due=_due(400))
    assert (await client.post(f"{PATH}/publish", headers=editor)).status_code == 200

    page = (await client.get(PUBLIC)).json()
    ld = (await client.get(PUBLIC, headers=LD)).json()

    reviewed_at = signed.json()["reviewed_at"]
    assert page["trust"]["review"] == {
        "status": "reviewed",
        "reviewed_by": {
            "name": "Test Reviewer",
            "qualification": "Specialist in cardiology",
            "registration_number": "TEST-0001",
        },
        "reviewed_at": reviewed_at,
        "next_review_due": _due(400),
    }
    assert page["trust"]["author"]["name"] == "Test Author"
    assert "rita-reviewer" not in str(page)  # the staff identity stays inside
    assert ld["lastReviewed"] == reviewed_at[:10]
    assert ld["reviewedBy"] == {
        "@type": "Person",
        "name": "Test Reviewer",
        "jobTitle": "Specialist in cardiology",
        "identifier": "TEST-0001",
    }


async def test_a_review_falls_overdue_with_time_even_in_cached_answers(
    client: Client, editor: Headers, reviewer: Headers, time_: FakeTime
) -> None:
    await _create(client, editor)
    await _create(client, editor, treatment(related_conditions=[]))
    await _sign(client, reviewer, due=_due(30))
    await client.post(f"{PATH}/publish", headers=editor)
    lists = "/v1/conditions?fields=trust"
    before = [await client.get(p) for p in (PUBLIC, lists, "/v1/sync")]
    before_ld = await client.get(PUBLIC, headers=LD)
    # Read again: these come from the cache now.
    cached = await client.get(PUBLIC, headers={"If-None-Match": before[0].headers["etag"]})
    assert cached.status_code == 304
    assert before[0].json()["trust"]["review"]["status"] == "reviewed"
    assert before[1].json()["items"][0]["trust"]["review"]["status"] == "reviewed"
    assert "reviewedBy" in before_ld.json()
    queue = await client.get("/v1/editorial/review-queue?status=overdue", headers=editor)
    assert queue.json() == []

    time_.advance(days=31)  # nothing published, no event: only time passes
    after = await client.get(PUBLIC)
    after_304 = await client.get(PUBLIC, headers={"If-None-Match": before[0].headers["etag"]})
    after_ld = await client.get(PUBLIC, headers=LD)
    listed = await client.get(lists)
    synced = await client.get("/v1/sync")
    queue = await client.get("/v1/editorial/review-queue?status=overdue", headers=editor)

    assert after.json()["trust"]["review"]["status"] == "overdue"
    assert after.json()["trust"]["review"]["next_review_due"] == _due(30)
    assert after_304.status_code == 200  # a new representation, a new ETag
    assert "reviewedBy" not in after_ld.json()
    assert "lastReviewed" not in after_ld.json()
    assert listed.json()["items"][0]["trust"]["review"]["status"] == "overdue"
    [document] = [d for d in synced.json()["published"] if d["kind"] == "condition"]
    assert document["shared"]["trust"]["review"]["status"] == "overdue"
    assert [(q["slug"], q["review"]["status"]) for q in queue.json()] == [
        ("mitral-valve-insufficiency", "overdue")
    ]
    # An overdue sign-off no longer carries a publication: the text needs a new review.
    again = await client.post(f"{PATH}/publish", headers=editor)
    assert again.status_code == 409


async def test_editors_list_unreviewed_and_overdue_documents(
    content_settings: ContentSettings, editor: Headers, reviewer: Headers
) -> None:
    # Where review is not required, documents go out unreviewed and the queue lists them.
    async with AsyncTestClient(create_app(content_settings)) as lax:
        await _create(lax, editor)
        await _create(lax, editor, condition("angina"))
        await lax.post("/v1/editorial/conditions/angina/publish", headers=editor)
        await _sign(lax, reviewer)
        await lax.post(f"{PATH}/publish", headers=editor)

        every = await lax.get("/v1/editorial/review-queue", headers=editor)
        unreviewed = await lax.get("/v1/editorial/review-queue?status=unreviewed", headers=editor)
        overdue = await lax.get("/v1/editorial/review-queue?status=overdue", headers=editor)
        bad = await lax.get("/v1/editorial/review-queue?status=late", headers=editor)
        anonymous = await lax.get("/v1/editorial/review-queue")

    assert [q["slug"] for q in every.json()] == ["angina"]
    assert unreviewed.json()[0]["review"]["status"] == "unreviewed"
    assert unreviewed.json()[0]["url"] == "/v1/conditions/angina"
    assert overdue.json() == []
    assert bad.status_code == 400
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"revision": 1, "next_review_due": _due(-1)}, 422, "next_review_due"),
        ({"revision": 1, "next_review_due": _due(0)}, 422, "next_review_due"),
        ({"revision": 1, "next_review_due": _due(3 * 366 + 5)}, 422, "next_review_due"),
        ({"revision": 0, "next_review_due": _due()}, 400, "revision"),
        ({"revision": 1}, 400, "next_review_due"),
        ({"revision": 1, "next_review_due": "soon"}, 400, "next_review_due"),
        ({"revision": 1, "next_review_due": _due(), "reviewer": "x"}, 400, "reviewer"),
    ],
)
async def test_a_bad_sign_off_is_refused_and_changes_nothing(
    client: Client,
    editor: Headers,
    reviewer: Headers,
    db: asyncpg.Connection,
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    await _create(client, editor)

    response = await client.post(f"{PATH}/sign-offs", json=body, headers=reviewer)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text
    assert await db.fetchval("SELECT count(*) FROM content.sign_offs") == 0


async def test_sign_offs_of_services_and_missing_documents_are_refused(
    client: Client, editor: Headers, reviewer: Headers, admin: Headers
) -> None:
    missing = await _sign(client, reviewer, path="/v1/editorial/conditions/nothing-here")
    no_name = await client.put(
        "/v1/editorial/reviewers/someone", json={"qualification": "Y"}, headers=admin
    )
    empty = await client.put(
        "/v1/editorial/reviewers/someone", json={"name": "", "qualification": "Y"}, headers=admin
    )

    assert missing.status_code == 404
    assert no_name.status_code == empty.status_code == 400
    assert (await client.get("/v1/editorial/reviewers", headers=admin)).json()[0]["person"] == (
        "rita-reviewer"
    )
