"""The editorial workflow: drafts, revisions, optimistic concurrency, publishing, previews,
events, sync and search."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.content.api.delivery import SyncPage
from services.content.api.preview_tokens import PreviewSigner
from services.content.app import ContentSettings, create_app
from services.content.usecases.editorial import publish_due
from services.runtime.core.db import create_pool
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.outbox import Outbox
from tests.content_samples import condition, create_and_publish
from tests.support import eventually

Client = AsyncTestClient[Litestar]
DOC = "/v1/editorial/conditions/mitral-valve-insufficiency"


async def test_a_draft_is_not_public_until_published(
    client: Client, editor: dict[str, str]
) -> None:
    created = await client.post("/v1/editorial/documents", json=condition(), headers=editor)

    public = await client.get("/v1/conditions/mitral-valve-insufficiency")
    draft = await client.get(DOC, headers=editor)

    assert created.status_code == 201
    assert created.headers["etag"] == '"1"'
    assert public.status_code == 404
    assert draft.status_code == 200
    assert draft.headers["cache-control"] == "private, no-store"
    assert draft.json()["published_revision"] is None


async def test_editorial_routes_need_an_editor(client: Client) -> None:
    response = await client.post("/v1/editorial/documents", json=condition())

    assert response.status_code == 401


async def test_a_duplicate_slug_is_a_conflict_and_a_misspelt_field_a_400(
    client: Client, editor: dict[str, str]
) -> None:
    await client.post("/v1/editorial/documents", json=condition(), headers=editor)

    again = await client.post("/v1/editorial/documents", json=condition(), headers=editor)
    typo = await client.post(
        "/v1/editorial/documents", json=condition("angina", specialtyy="x"), headers=editor
    )

    assert again.status_code == 409
    assert typo.status_code == 400
    assert "specialtyy" in typo.json()["errors"][0]["message"]


async def test_saves_are_numbered_revisions_guarded_by_if_match(
    client: Client, editor: dict[str, str]
) -> None:
    await client.post("/v1/editorial/documents", json=condition(), headers=editor)
    edited = condition(tags=["heart-valve", "surgery"])

    saved = await client.put(DOC, json=edited, headers={**editor, "If-Match": '"1"'})
    stale = await client.put(DOC, json=condition(), headers={**editor, "If-Match": '"1"'})
    revisions = await client.get(f"{DOC}/revisions", headers=editor)

    assert saved.status_code == 200
    assert saved.headers["etag"] == '"2"'
    assert stale.status_code == 412
    assert "version 2" in stale.json()["detail"]
    assert [(r["number"], r["author"]) for r in revisions.json()] == [
        (1, "Eva Editor"),
        (2, "Eva Editor"),
    ]


async def test_two_revisions_diff_and_an_old_one_can_be_restored(
    client: Client, editor: dict[str, str]
) -> None:
    await client.post("/v1/editorial/documents", json=condition(), headers=editor)
    await client.put(DOC, json=condition(tags=["surgery"]), headers=editor)

    diff = await client.get(f"{DOC}/revisions/diff?from=1&to=2", headers=editor)
    restored = await client.post(f"{DOC}/revisions/1/restore", headers=editor)
    missing = await client.get(f"{DOC}/revisions/diff?from=1&to=9", headers=editor)

    assert diff.json()["changes"] == [
        {"path": "tags[0]", "before": "heart-valve", "after": "surgery"}
    ]
    assert restored.json()["version"] == 3
    assert restored.json()["draft"]["tags"] == ["heart-valve"]
    assert missing.status_code == 404


async def test_publishing_an_invalid_document_lists_every_problem_and_publishes_nothing(
    client: Client, editor: dict[str, str]
) -> None:
    broken = condition(icd10=[], related_services=["no-such-service"])
    del broken["translations"]["de"]["seo"]
    await client.post("/v1/editorial/documents", json=broken, headers=editor)

    response = await client.post(f"{DOC}/publish", headers=editor)

    assert response.status_code == 422
    fields = sorted(e["field"] for e in response.json()["errors"])
    assert fields == [
        "icd10",
        "related_services",
        "translations.de.seo",
    ]
    assert (await client.get("/v1/conditions/mitral-valve-insufficiency")).status_code == 404


async def test_publish_and_unpublish_announce_content_events(
    client: Client, editor: dict[str, str], bus: Bus
) -> None:
    await create_and_publish(client, editor, condition())
    unpublished = await client.post(f"{DOC}/unpublish", headers=editor)
    gone = await client.get("/v1/conditions/mitral-valve-insufficiency")

    async def events() -> list[bytes] | None:
        info = await bus.js.stream_info(bus.stream("CONTENT"))
        if info.state.messages < 2:
            return None
        first = await bus.js.get_msg(bus.stream("CONTENT"), 1)
        second = await bus.js.get_msg(bus.stream("CONTENT"), 2)
        return [first.data or b"", second.data or b""]

    published_event, unpublished_event = await eventually(events)
    assert unpublished.status_code == 200
    assert gone.status_code == 404
    assert b'"type":"content_published"' in published_event
    assert b'"locales":["de","en"],"revision":1' in published_event
    assert b'"type":"content_unpublished"' in unpublished_event


async def test_a_scheduled_publication_goes_out_when_due_even_after_a_restart(
    client: Client, editor: dict[str, str], database_url: str
) -> None:
    await client.post("/v1/editorial/documents", json=condition(), headers=editor)
    at = datetime.now(UTC) + timedelta(hours=2)

    scheduled = await client.post(f"{DOC}/publish", json={"at": at.isoformat()}, headers=editor)
    before = await client.get("/v1/conditions/mitral-valve-insufficiency")

    assert scheduled.json()["scheduled_for"] is not None
    assert before.status_code == 404
    # The schedule lives in the database: any process, started at any time, publishes it.
    pool = await create_pool(database_url, schema="content", min_size=1, max_size=2)
    outbox = Outbox(source="/carebridge/content", schema="content")
    try:
        assert (
            await publish_due(pool, outbox, review_required=False, now=at - timedelta(minutes=1))
            == 0
        )
        assert (
            await publish_due(pool, outbox, review_required=False, now=at + timedelta(seconds=1))
            == 1
        )
        assert (
            await publish_due(pool, outbox, review_required=False, now=at + timedelta(seconds=2))
            == 0
        )
    finally:
        await pool.close()
    after = await client.get("/v1/conditions/mitral-valve-insufficiency")
    assert after.status_code == 200


async def test_replicas_publishing_at_once_publish_each_scheduled_document_once(
    client: Client, editor: dict[str, str], database_url: str, db: asyncpg.Connection
) -> None:
    slugs = [f"condition-{n}" for n in range(6)]
    at = datetime.now(UTC) + timedelta(hours=2)
    for slug in slugs:
        await client.post("/v1/editorial/documents", json=condition(slug), headers=editor)
        path = f"/v1/editorial/conditions/{slug}/publish"
        scheduled = await client.post(path, json={"at": at.isoformat()}, headers=editor)
        assert scheduled.status_code == 200
    pool = await create_pool(database_url, schema="content", min_size=3, max_size=3)
    outbox = Outbox(source="/carebridge/content", schema="content")
    try:
        # Three replicas' schedulers wake at the same moment, each taking two at a time.
        due = at + timedelta(seconds=1)
        counts = await asyncio.gather(
            *(publish_due(pool, outbox, review_required=False, now=due, limit=2) for _ in range(3))
        )
        left = await publish_due(pool, outbox, review_required=False, now=due)
    finally:
        await pool.close()

    assert sum(counts) == len(slugs)
    assert left == 0
    # The change log gets a row per publication, in the transaction that emits its event.
    changes = await db.fetch("SELECT slug FROM changes WHERE action = 'published'")
    assert sorted(r["slug"] for r in changes) == slugs


async def test_an_invalid_schedule_is_refused_up_front(
    client: Client, editor: dict[str, str]
) -> None:
    await client.post("/v1/editorial/documents", json=condition(icd10=[]), headers=editor)
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    response = await client.post(f"{DOC}/publish", json={"at": at}, headers=editor)

    assert response.status_code == 422


async def test_a_preview_link_shows_the_draft_exactly_as_served_and_is_private(
    client: Client, editor: dict[str, str]
) -> None:
    await create_and_publish(client, editor, condition())
    changed = condition()
    changed["translations"]["en"]["title"] = "Mitral regurgitation"
    await client.put(DOC, json=changed, headers=editor)

    link = (await client.post(f"{DOC}/preview", headers=editor)).json()
    preview = await client.get(link["url"])
    public = await client.get("/v1/conditions/mitral-valve-insufficiency")

    assert preview.status_code == 200
    assert preview.json()["title"] == "Mitral regurgitation"
    assert preview.json()["revision"] == 2
    assert preview.headers["cache-control"] == "private, no-store"
    assert public.json()["title"] == "Mitral valve insufficiency"
    assert set(preview.json()) == set(public.json())


@pytest.mark.parametrize("mutate", ["tamper", "garbage"])
async def test_a_tampered_or_malformed_preview_token_is_refused(
    client: Client, editor: dict[str, str], mutate: str
) -> None:
    await client.post("/v1/editorial/documents", json=condition(), headers=editor)
    token = (await client.post(f"{DOC}/preview", headers=editor)).json()["token"]
    payload, signature = token.split(".")
    bad = f"{payload}.{signature[:-2]}AA" if mutate == "tamper" else "not-a-token"

    response = await client.get(f"/v1/preview/{bad}")

    assert response.status_code == 401


async def test_an_expired_preview_token_is_refused(
    client: Client, content_settings: ContentSettings, editor: dict[str, str]
) -> None:
    await client.post("/v1/editorial/documents", json=condition(), headers=editor)
    asked_at = time.time()
    link = (await client.post(f"{DOC}/preview", headers=editor)).json()
    # The server's link lasts preview_ttl; one signed with its secret whose time has passed
    # stands for that link once it has (issued an hour and a ttl ago), with no wait.
    signer = PreviewSigner(content_settings.preview_secret.encode(), content_settings.preview_ttl)
    token, _ = signer.issue(
        "condition",
        "mitral-valve-insufficiency",
        1,
        now=asked_at - content_settings.preview_ttl - 3600,
    )

    live = await client.get(link["url"])
    response = await client.get(f"/v1/preview/{token}")

    expires_in = datetime.fromisoformat(link["expires_at"]).timestamp() - asked_at
    assert content_settings.preview_ttl - 1 <= expires_in <= content_settings.preview_ttl + 1
    assert live.status_code == 200
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_sync_returns_a_snapshot_then_only_changes(
    client: Client, editor: dict[str, str]
) -> None:
    await create_and_publish(client, editor, condition())
    await create_and_publish(client, editor, condition("angina"))

    snapshot = (await client.get("/v1/sync")).json()
    nothing = (await client.get(f"/v1/sync?token={snapshot['token']}")).json()
    await client.post("/v1/editorial/conditions/angina/unpublish", headers=editor)
    await create_and_publish(client, editor, condition("endocarditis"))

    # Sync pages are cached like documents and dropped by the content events, which arrive
    # after the editor's answer: the page for this token renews once they have.
    async def renewed() -> Any:
        page = (await client.get(f"/v1/sync?token={snapshot['token']}")).json()
        return page if page["published"] or page["removed"] else None

    delta = await eventually(renewed, timeout=5)
    bad = await client.get("/v1/sync?token=bogus")

    assert snapshot["full"] is True
    assert sorted(d["slug"] for d in snapshot["published"]) == [
        "angina",
        "mitral-valve-insufficiency",
    ]
    assert set(snapshot["published"][0]["translations"]) == {"de", "en"}
    assert (nothing["published"], nothing["removed"]) == ([], [])
    assert [d["slug"] for d in delta["published"]] == ["endocarditis"]
    assert [r["slug"] for r in delta["removed"]] == ["angina"]
    assert delta["token"] != snapshot["token"]
    assert bad.status_code == 400
    assert snapshot["more"] is False


async def test_sync_pages_a_pass_by_limit_and_refuses_a_limit_out_of_range(
    client: Client, editor: dict[str, str]
) -> None:
    slugs = ["angina", "endocarditis", "mitral-valve-insufficiency"]
    for slug in slugs:
        await create_and_publish(client, editor, condition(slug))

    pages = [(await client.get("/v1/sync?limit=2")).json()]
    while pages[-1]["more"]:
        pages.append((await client.get(f"/v1/sync?limit=2&token={pages[-1]['token']}")).json())
    refused = [(await client.get(f"/v1/sync?limit={n}")).status_code for n in (0, 1001, "x")]

    assert [(p["full"], len(p["published"]), p["more"]) for p in pages] == [
        (True, 2, True),
        (False, 1, False),
    ]
    assert sorted(d["slug"] for p in pages for d in p["published"]) == slugs
    assert refused == [400, 400, 400]
    # The texts go out as stored (raw JSON): still the declared shape, the document's own.
    first = msgspec.json.decode((await client.get("/v1/sync?limit=2")).content, type=SyncPage)
    read = (await client.get(f"/v1/conditions/{first.published[0].slug}?locale=de")).json()
    assert first.published[0].translations["de"].title == read["title"]


async def test_search_ranks_by_language_with_german_stemming_and_tolerates_typos(
    client: Client, editor: dict[str, str]
) -> None:
    await create_and_publish(client, editor, condition())
    other = condition("heart-failure")
    other["translations"]["en"]["title"] = "Heart failure"
    other["translations"]["en"]["summary"] = (
        "The heart pumps too weakly; the valve is not the cause."
    )
    other["translations"]["en"]["sections"][0]["body"] = "The heart muscle is weak."
    other["translations"]["de"]["sections"][0]["body"] = "Der Herzmuskel ist schwach."
    other["translations"]["de"]["title"] = "Herzinsuffizienz"
    other["translations"]["de"]["summary"] = "Das Herz pumpt zu schwach."
    await create_and_publish(client, editor, other)

    english = (await client.get("/v1/search?q=valve leaks back&locale=en")).json()
    # German stemming: "fließt zurück" finds "Blut fließt ... zurück" through the stems.
    german = (await client.get("/v1/search?q=fließt zurück&locale=de")).json()
    typo = (await client.get("/v1/search?q=Mitral valv insuficiency&locale=en")).json()
    empty = await client.get("/v1/search?q=&locale=en")

    assert english["items"][0]["slug"] == "mitral-valve-insufficiency"
    assert "<mark>" in english["items"][0]["snippet"]
    assert [i["slug"] for i in german["items"]] == ["mitral-valve-insufficiency"]
    assert german["items"][0]["locale"] == "de"
    assert typo["items"][0]["slug"] == "mitral-valve-insufficiency"
    assert empty.status_code == 400


@pytest.fixture
async def second_instance(content_settings: ContentSettings) -> AsyncIterator[Client]:
    async with AsyncTestClient(create_app(content_settings)) as client:
        yield client


async def test_a_publish_on_one_instance_refreshes_the_cache_of_another(
    client: Client, second_instance: Client, editor: dict[str, str]
) -> None:
    await create_and_publish(client, editor, condition())
    url = "/v1/conditions/mitral-valve-insufficiency"
    first = await second_instance.get(url)  # now cached in the second instance
    assert first.json()["revision"] == 1
    changed = copy.deepcopy(condition())
    changed["translations"]["en"]["title"] = "Mitral regurgitation"
    await client.put(DOC, json=changed, headers=editor)
    await client.post(f"{DOC}/publish", headers=editor)

    async def refreshed() -> bool:
        return (await second_instance.get(url)).json()["title"] == "Mitral regurgitation"

    await eventually(refreshed, timeout=10)


async def test_published_rows_hold_no_unsanitised_html(
    client: Client, editor: dict[str, str], db: asyncpg.Connection
) -> None:
    doc = condition()
    doc["translations"]["en"]["sections"][0]["body"] = (
        "Hi <script>alert(1)</script> [x](javascript:alert(1))"
    )
    await create_and_publish(client, editor, doc)

    served = (await client.get("/v1/conditions/mitral-valve-insufficiency")).json()

    html = served["sections"][0]["body_html"]
    assert "<script>" not in html
    assert "javascript:" not in html or "href" not in html
    stored: Any = await db.fetchval(
        "SELECT rendered->'translations'->'en'->'sections'->0->>'body_html' FROM published"
    )
    assert stored == html
