"""Delivery answers in the content coding the reader accepts, revalidated across codings, and
list, search and sync pages cached until a publish in what they show."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.content.app import ContentSettings, create_app
from services.content.consumers import INVALIDATION_LISTENER
from services.content.store import delivery as delivery_store
from services.runtime.messaging.bus import Bus
from tests.content_samples import condition, create_and_publish, treatment
from tests.support import eventually

Client = AsyncTestClient[Litestar]
PAGE = "/v1/conditions/mitral-valve-insufficiency"


@pytest.fixture
async def published(client: Client, editor: dict[str, str]) -> dict[str, Any]:
    return await create_and_publish(client, editor, condition())


async def cached(client: Client, path: str, headers: dict[str, str] | None = None) -> Any:
    """The answer once it comes from the cache's fast path (no correlation id: only the
    framework adds one), after the publish event has come and gone."""

    async def from_cache() -> Any:
        response = await client.get(path, headers=headers)
        return None if "x-correlation-id" in response.headers else response

    return await eventually(from_cache, timeout=5)


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip"])
async def test_each_coding_is_sent_when_asked_for_and_decodes_to_the_same_document(
    client: Client, published: dict[str, Any], coding: str
) -> None:
    identity = await client.get(PAGE, headers={"Accept-Encoding": "identity"})
    framework = await client.get(PAGE, headers={"Accept-Encoding": coding})
    fast = await cached(client, PAGE, {"Accept-Encoding": coding})

    assert "content-encoding" not in identity.headers
    for response in (framework, fast):
        assert response.headers["content-encoding"] == coding
        assert "Accept-Encoding" in response.headers["vary"]
        # httpx decoded it: the document is the identity one.
        assert response.content == identity.content
        assert response.headers["etag"] == identity.headers["etag"][:-1] + f'-{coding}"'
        assert int(response.headers["content-length"]) < len(identity.content)


async def test_the_highest_q_value_wins_and_q_0_refuses(
    client: Client, published: dict[str, Any]
) -> None:
    preferred = await client.get(PAGE, headers={"Accept-Encoding": "br;q=0.2, gzip;q=0.8"})
    refused = await client.get(PAGE, headers={"Accept-Encoding": "br;q=0, zstd;q=0, *"})
    plain = await client.get(PAGE, headers={"Accept-Encoding": "br;q=0, gzip;q=0"})

    assert preferred.headers["content-encoding"] == "gzip"
    assert refused.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers


@pytest.mark.parametrize("header", ["identity;q=0", "*;q=0", "deflate, identity;q=0"])
async def test_refusing_identity_and_every_coding_we_have_is_a_406(
    client: Client, published: dict[str, Any], header: str
) -> None:
    for _ in range(2):  # the framework, then with the page cached
        response = await client.get(PAGE, headers={"Accept-Encoding": header})
        assert response.status_code == 406, response.text
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_refusing_identity_alone_gets_a_compressed_answer(
    client: Client, published: dict[str, Any]
) -> None:
    response = await client.get(PAGE, headers={"Accept-Encoding": "identity;q=0, gzip"})

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"


async def test_a_tag_of_any_coding_revalidates_the_document_in_every_coding(
    client: Client, published: dict[str, Any]
) -> None:
    br = await client.get(PAGE, headers={"Accept-Encoding": "br"})
    gzip = await client.get(PAGE, headers={"Accept-Encoding": "gzip"})
    await cached(client, PAGE, {"Accept-Encoding": "br"})

    for held in (br.headers["etag"], gzip.headers["etag"]):
        for coding in ("br", "zstd", "gzip", "identity"):
            response = await client.get(
                PAGE, headers={"Accept-Encoding": coding, "If-None-Match": held}
            )
            assert response.status_code == 304, (held, coding)
            # The tag of what would have been sent, so the client stores the right one.
            assert response.headers["etag"].endswith('"' if coding == "identity" else f'-{coding}"')
            assert "Accept-Encoding" in response.headers["vary"]


async def test_lists_search_and_sync_answer_304_on_their_etag(
    client: Client, published: dict[str, Any]
) -> None:
    for path in ("/v1/conditions", "/v1/search?q=mitral", "/v1/sync"):
        first = await client.get(path)
        assert first.status_code == 200, path
        again = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, path
        assert again.headers["etag"] == first.headers["etag"]


async def test_a_list_page_read_again_comes_from_the_cache(
    client: Client, published: dict[str, Any]
) -> None:
    first = await client.get("/v1/conditions?locale=de&limit=5")
    second = await cached(client, "/v1/conditions?locale=de&limit=5")

    assert second.status_code == 200
    assert second.content == first.content
    assert second.json()["items"][0]["title"] == "Mitralklappeninsuffizienz"


async def test_a_publish_outdates_the_lists_of_its_collection_and_no_other(
    client: Client, editor: dict[str, str], published: dict[str, Any]
) -> None:
    await create_and_publish(client, editor, treatment())
    conditions = await cached(client, "/v1/conditions")
    treatments = await cached(client, "/v1/treatments")

    await create_and_publish(client, editor, treatment("mitral-valve-replacement"))

    async def treatments_list_renewed() -> Any:
        response = await client.get("/v1/treatments")
        return len(response.json()["items"]) == 2

    await eventually(treatments_list_renewed, timeout=5)
    # The conditions list was never dropped: still answered by the fast path, unchanged.
    still = await client.get("/v1/conditions")
    assert "x-correlation-id" not in still.headers
    assert still.content == conditions.content
    assert treatments.json()["items"][0]["slug"] == "mitral-valve-repair"


async def test_a_publish_outdates_search_and_sync_pages(
    client: Client, editor: dict[str, str], published: dict[str, Any]
) -> None:
    before = await cached(client, "/v1/search?q=repair")
    sync = await cached(client, "/v1/sync")
    assert before.json()["items"] == []

    await create_and_publish(client, editor, treatment())

    async def found() -> Any:
        hits = (await client.get("/v1/search?q=repair")).json()["items"]
        return [h["slug"] for h in hits] == ["mitral-valve-repair"]

    await eventually(found, timeout=5)
    after = await client.get("/v1/sync")
    assert len(after.json()["published"]) == len(sync.json()["published"]) + 1


async def test_search_finds_rare_and_common_words_and_typos_in_english_and_german(
    client: Client, editor: dict[str, str], published: dict[str, Any]
) -> None:
    await create_and_publish(client, editor, treatment())

    async def slugs(query: str, locale: str) -> list[str]:
        page = (await client.get(f"/v1/search?q={query}&locale={locale}")).json()
        return [hit["slug"] for hit in page["items"]]

    rare = (await client.get("/v1/search?q=ventricle&locale=en")).json()["items"]
    assert [h["slug"] for h in rare] == ["mitral-valve-insufficiency"]
    assert "<mark>ventricle</mark>" in rare[0]["snippet"]
    assert set(await slugs("mitral", "en")) == {"mitral-valve-insufficiency", "mitral-valve-repair"}
    # Typos in a title, found by trigram word similarity: English and German.
    assert (await slugs("mitral insuficiency", "en"))[0] == "mitral-valve-insufficiency"
    assert (await slugs("Mitralklapeninsufizienz", "de"))[0] == "mitral-valve-insufficiency"
    assert await slugs("zzqxw", "en") == []


def _about(slug: str, title: str, summary: str, body: str) -> dict[str, Any]:
    doc = condition(slug)
    english = doc["translations"]["en"]
    english |= {"title": title, "summary": summary, "seo": {"title": title, "description": title}}
    english["sections"][0]["body"] = body
    return doc


async def test_a_common_word_ranks_title_matches_first_then_summary_then_body(
    client: Client, editor: dict[str, str]
) -> None:
    # The body that says "murmur" most often ranks last: a document about it names it in its
    # title, or at least its summary. Ranking the whole document's vector ranked it first.
    documents = [
        _about("loud-valves", "Loud valves", "Sounds a stethoscope hears.", "murmur " * 12),
        _about("murmur", "Heart murmur", "What a doctor hears.", "A sound between beats."),
        _about("noises", "Noises", "A murmur is a sound of the blood.", "Harmless or not."),
    ]
    for doc in documents:
        await create_and_publish(client, editor, doc)

    page = (await client.get("/v1/search?q=murmur&locale=en")).json()["items"]

    assert [h["slug"] for h in page] == ["murmur", "noises", "loud-valves"]
    assert page[0]["rank"] > page[1]["rank"] > page[2]["rank"] > 0
    # Snippets: from the summary when the title or summary match, else the body's match.
    assert page[1]["snippet"].startswith("A <mark>murmur</mark> is a sound")
    assert "<mark>murmur</mark>" in page[2]["snippet"]


async def test_a_common_word_beyond_the_candidates_still_puts_title_matches_first(
    client: Client, editor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the best candidates by title and summary are ranked on the whole document.
    monkeypatch.setattr(delivery_store, "CANDIDATES", 2)
    for n in range(3):
        await create_and_publish(
            client, editor, _about(f"body-{n}", f"Other {n}", "Nothing.", "tricuspid " * 5)
        )
    await create_and_publish(
        client, editor, _about("tricuspid", "Tricuspid valve", "Nothing.", "A valve.")
    )

    page = (await client.get("/v1/search?q=tricuspid&locale=en&limit=3")).json()["items"]

    assert page[0]["slug"] == "tricuspid"
    assert len(page) == 2


async def test_accents_are_folded_for_words_and_for_typos_in_titles(
    client: Client, editor: dict[str, str]
) -> None:
    doc = _about(
        "menieres-disease",
        "Ménière's disease",
        "Attacks of vertigo with ringing in the ear.",
        "Named after Prosper Ménière, who described it.",
    )
    doc["translations"]["de"]["title"] = "Morbus Ménière"
    await create_and_publish(client, editor, doc)

    async def slugs(query: str, locale: str) -> list[str]:
        page = (await client.get(f"/v1/search?q={query}&locale={locale}")).json()
        return [hit["slug"] for hit in page["items"]]

    assert await slugs("Meniere", "en") == ["menieres-disease"]
    assert await slugs("Ménière", "en") == ["menieres-disease"]
    assert await slugs("Meniere", "de") == ["menieres-disease"]
    # Misspelt and unaccented: the typo fallback compares folded titles.
    assert await slugs("Menierre", "de") == ["menieres-disease"]


async def test_a_message_that_is_no_content_event_is_kept_as_a_dead_letter_and_flushes_nothing(
    client: Client, published: dict[str, Any], bus: Bus, db: asyncpg.Connection
) -> None:
    document = await cached(client, "/v1/conditions/mitral-valve-insufficiency")
    listing = await cached(client, "/v1/conditions")

    await bus.nc.publish(bus.subject("content.document.published.v1"), b"{not an event")
    await bus.nc.flush()

    async def kept() -> Any:
        return await db.fetchrow(
            "SELECT subject, error FROM content.dead_letters WHERE consumer = $1",
            INVALIDATION_LISTENER,
        )

    letter = await eventually(kept, timeout=5)
    assert letter["subject"] == "content.document.published.v1"
    assert letter["error"].startswith("undecodable message")
    # Both still come from the fast path, unchanged: nothing was dropped for it.
    for before, path in (
        (document, "/v1/conditions/mitral-valve-insufficiency"),
        (listing, "/v1/conditions"),
    ):
        again = await client.get(path)
        assert "x-correlation-id" not in again.headers, path
        assert again.content == before.content


async def test_an_answer_too_large_to_keep_is_made_in_the_cheapest_coding_the_reader_likes_best(
    content_settings: ContentSettings, editor: dict[str, str]
) -> None:
    # A cache of 1 kB keeps no answer: each page is made for its reader, compressed in one
    # coding only.
    small = msgspec.structs.replace(content_settings, content_cache_bytes=1024)
    async with AsyncTestClient(create_app(small), raise_server_exceptions=False) as client:
        await create_and_publish(client, editor, condition())
        answers = {
            header: await client.get("/v1/sync", headers={"Accept-Encoding": header})
            for header in ("gzip, br, zstd", "br, zstd;q=0.5", "gzip", "identity")
        }

    codings = {h: a.headers.get("content-encoding", "identity") for h, a in answers.items()}
    assert codings == {
        "gzip, br, zstd": "zstd",  # equal q-values: the cheapest to make
        "br, zstd;q=0.5": "br",  # the reader's q-values first
        "gzip": "gzip",
        "identity": "identity",
    }
    bodies = [a.json() for a in answers.values()]
    assert all(b["published"] == bodies[0]["published"] for b in bodies)
    # Made again for each reader (the framework answered: it adds the correlation id).
    assert all("x-correlation-id" in a.headers for a in answers.values())
