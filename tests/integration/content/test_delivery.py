"""The public delivery API: locales, caching headers, redirects, lists, JSON-LD."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.content.app import ContentSettings, create_app
from tests.content_samples import condition, create_and_publish, treatment
from tests.support import eventually, metrics_page

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def published(client: Client, editor: dict[str, str]) -> dict[str, Any]:
    return await create_and_publish(client, editor, condition())


async def test_a_published_condition_is_served_in_the_requested_locale(
    client: Client, published: dict[str, Any]
) -> None:
    en = await client.get("/v1/conditions/mitral-valve-insufficiency")
    de = await client.get("/v1/conditions/mitral-valve-insufficiency?locale=de")

    assert en.status_code == de.status_code == 200
    assert en.json()["title"] == "Mitral valve insufficiency"
    assert de.json()["title"] == "Mitralklappeninsuffizienz"
    assert de.headers["content-language"] == "de"
    assert "Accept-Language" in de.headers["vary"]
    section = en.json()["sections"][0]
    assert section["body_html"] == (
        "<p>Blood leaks back from the <strong>left ventricle</strong> into the left atrium.</p>"
    )
    assert en.json()["icd10"] == ["I34.0"]
    assert en.json()["disclaimer"].startswith("This information explains")
    assert de.json()["available_locales"] == ["de", "en"]


async def test_fields_fall_back_separately_along_the_locale_chain(
    client: Client, published: dict[str, Any]
) -> None:
    response = await client.get(
        "/v1/conditions/mitral-valve-insufficiency", headers={"Accept-Language": "de-AT, en;q=0.5"}
    )

    body = response.json()
    assert body["requested_locale"] == "de-AT"
    assert body["locale"] == "de"
    assert body["title"] == "Mitralklappeninsuffizienz"
    # Symptoms are written in English only: that field alone falls back.
    assert body["symptoms"] == ["Shortness of breath", "Swollen legs"]
    assert body["field_locales"]["title"] == "de"
    assert body["field_locales"]["symptoms"] == "en"


@pytest.mark.parametrize("locale", ["fr", "xx-YY-ZZ", "12", "de_AT_x"])
async def test_an_unknown_or_malformed_locale_is_a_400_naming_locale(
    client: Client, published: dict[str, Any], locale: str
) -> None:
    response = await client.get(f"/v1/conditions/mitral-valve-insufficiency?locale={locale}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "locale"


async def test_an_unsupported_accept_language_falls_back_to_english(
    client: Client, published: dict[str, Any]
) -> None:
    response = await client.get(
        "/v1/conditions/mitral-valve-insufficiency", headers={"Accept-Language": "fr-FR, it"}
    )

    assert response.status_code == 200
    assert response.headers["content-language"] == "en"


async def test_revalidation_with_the_etag_answers_304(
    client: Client, published: dict[str, Any]
) -> None:
    first = await client.get("/v1/conditions/mitral-valve-insufficiency")
    etag = first.headers["etag"]

    again = await client.get(
        "/v1/conditions/mitral-valve-insufficiency", headers={"If-None-Match": etag}
    )
    other = await client.get(
        "/v1/conditions/mitral-valve-insufficiency", headers={"If-None-Match": '"stale"'}
    )

    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert other.status_code == 200
    assert "stale-while-revalidate" in first.headers["cache-control"]
    assert first.headers["last-modified"].endswith("GMT")


async def test_a_304_repeats_the_validator_and_caching_fields_only(
    client: Client, published: dict[str, Any], content_settings: ContentSettings
) -> None:
    url = "/v1/conditions/mitral-valve-insufficiency"
    ok = await client.get(url)
    revalidate = {"If-None-Match": ok.headers["etag"]}
    # A replica that has not read the page yet answers through the framework, which fills its
    # cache; its next answer comes from the fast path. Both must be the same 304.
    async with AsyncTestClient(create_app(content_settings)) as cold:
        by_framework = await cold.get(url, headers=revalidate)
        by_fast_path = await cold.get(url, headers=revalidate)

    assert "x-request-id" in by_framework.headers  # minted by the framework's layers only
    assert "x-request-id" not in by_fast_path.headers
    for answer in (by_framework, by_fast_path):
        assert answer.status_code == 304
        assert answer.content == b""
        for name in ("etag", "cache-control", "vary"):
            assert answer.headers[name] == ok.headers[name]
        for name in ("content-language", "last-modified", "content-type"):
            assert name in ok.headers
            assert name not in answer.headers


async def test_an_unknown_slug_is_a_404_problem(client: Client) -> None:
    response = await client.get("/v1/conditions/no-such-condition")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_renamed_slug_redirects_permanently(
    client: Client, editor: dict[str, str], published: dict[str, Any]
) -> None:
    saved = await client.put(
        "/v1/editorial/conditions/mitral-valve-insufficiency",
        json=condition("mitral-regurgitation"),
        headers=editor,
    )
    assert saved.status_code == 200, saved.text
    republished = await client.post(
        "/v1/editorial/conditions/mitral-regurgitation/publish", headers=editor
    )
    assert republished.status_code == 200

    old = await client.get(
        "/v1/conditions/mitral-valve-insufficiency?locale=de", follow_redirects=False
    )

    assert old.status_code == 301
    assert old.headers["location"] == "/v1/conditions/mitral-regurgitation?locale=de"


async def test_json_ld_describes_a_medical_condition(
    client: Client, published: dict[str, Any]
) -> None:
    response = await client.get(
        "/v1/conditions/mitral-valve-insufficiency",
        headers={"Accept": "application/ld+json"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    page = response.json()
    assert page["@type"] == "MedicalWebPage"
    assert page["about"]["@type"] == "MedicalCondition"
    assert page["about"]["code"] == [
        {"@type": "MedicalCode", "codeValue": "I34.0", "codingSystem": "ICD-10"}
    ]
    assert page["about"]["signOrSymptom"][0]["name"] == "Shortness of breath"
    # Published without a sign-off (review not required here): no review is claimed.
    assert "reviewedBy" not in page
    assert "lastReviewed" not in page


async def test_lists_page_with_stable_cursors_while_content_is_published(
    client: Client, editor: dict[str, str]
) -> None:
    for slug in ("angina", "cardiomyopathy", "endocarditis", "myocarditis"):
        await create_and_publish(client, editor, condition(slug))

    first = await client.get("/v1/conditions?limit=2")
    await create_and_publish(client, editor, condition("aortic-stenosis"))  # sorts before page 2
    second = await client.get(f"/v1/conditions?limit=2&cursor={first.json()['next_cursor']}")

    assert [i["slug"] for i in first.json()["items"]] == ["angina", "cardiomyopathy"]
    assert [i["slug"] for i in second.json()["items"]] == ["endocarditis", "myocarditis"]
    assert second.json()["next_cursor"] is None
    assert set(first.json()["items"][0]) >= {"title", "summary", "field_locales", "url"}


async def test_lists_filter_select_fields_and_embed_related_items(
    client: Client, editor: dict[str, str]
) -> None:
    await create_and_publish(client, editor, condition("angina", tags=["chest-pain"]))
    await create_and_publish(
        client, editor, condition("mitral-valve-insufficiency", related_treatments=[])
    )

    tagged = await client.get("/v1/conditions?tag=chest-pain&fields=title,icd10")

    items = tagged.json()["items"]
    assert [i["slug"] for i in items] == ["angina"]
    assert set(items[0]) == {"kind", "slug", "title", "icd10"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=1000", "limit"),
        ("limit=0", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("fields=title,secret_sauce", "fields"),
        ("include=everything", "include"),
        ("sort=popularity", "sort"),
    ],
)
async def test_bad_list_parameters_are_a_400_naming_the_parameter(
    client: Client, query: str, field: str
) -> None:
    response = await client.get(f"/v1/conditions?{query}")

    assert response.status_code == 400, response.text
    assert field in str(response.json()["errors"])


async def test_a_document_read_twice_is_served_from_the_cache_the_second_time(
    client: Client, published: dict[str, Any]
) -> None:
    first = await client.get("/v1/conditions/mitral-valve-insufficiency")

    async def from_cache() -> Any:
        # Only the framework path adds a correlation id; the cached fast path answers before it.
        # (The publish event may still arrive and empty the cache once, hence polling.)
        response = await client.get("/v1/conditions/mitral-valve-insufficiency")
        return None if "x-correlation-id" in response.headers else response

    second = await eventually(from_cache, timeout=5)
    assert "x-correlation-id" in first.headers
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]


async def test_reads_served_from_the_cache_are_counted_on_the_metrics_page(
    client: Client, published: dict[str, Any]
) -> None:
    path = "/v1/conditions/mitral-valve-insufficiency"
    first = await client.get(path)

    async def from_cache() -> Any:
        response = await client.get(path)
        return None if "x-correlation-id" in response.headers else response

    await eventually(from_cache, timeout=5)
    before = _counted(await metrics_page(client))
    await client.get(path)
    await client.get(path)
    revalidated = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    after = _counted(await metrics_page(client))

    assert revalidated.status_code == 304
    assert after[200] - before[200] == 2
    assert after[304] - before[304] == 1


def _counted(metrics: str) -> dict[int, float]:
    """Counts of the document route by status, from the Prometheus text."""
    counts = {200: 0.0, 304: 0.0}
    for line in metrics.splitlines():
        for status in counts:
            prefix = (
                'http_requests_total{method="GET",route="/v1/{collection}/{slug}",'
                f'status="{status}"}} '
            )
            if line.startswith(prefix):
                counts[status] = float(line.removeprefix(prefix))
    return counts


async def test_a_surgical_treatment_is_a_medical_procedure_with_a_non_binding_price(
    client: Client, editor: dict[str, str]
) -> None:
    await create_and_publish(client, editor, condition())
    await create_and_publish(client, editor, treatment())

    page = (
        await client.get(
            "/v1/treatments/mitral-valve-repair", headers={"Accept": "application/ld+json"}
        )
    ).json()
    served = (await client.get("/v1/treatments/mitral-valve-repair?locale=de")).json()

    # Surgery is a procedure, not a therapy.
    assert page["about"]["@type"] == "SurgicalProcedure"
    assert page["about"]["name"] == "Mitral valve repair"
    assert served["price"] == {"from_eur": 28000, "to_eur": 38000, "as_of": "2026-11-01"}
    assert served["price_disclaimer"].startswith("Preise sind unverbindliche Schätzungen")


async def test_include_embeds_published_related_items_in_the_readers_locale(
    client: Client, editor: dict[str, str]
) -> None:
    # They name each other: both exist as drafts before either is published.
    await client.post(
        "/v1/editorial/documents",
        json=condition(related_treatments=["mitral-valve-repair"]),
        headers=editor,
    )
    await create_and_publish(client, editor, treatment())
    await client.post("/v1/editorial/conditions/mitral-valve-insufficiency/publish", headers=editor)

    listed = await client.get("/v1/conditions?include=related_treatments&locale=de")
    single = await client.get(
        "/v1/conditions/mitral-valve-insufficiency?include=related_treatments&locale=de"
    )

    embedded = listed.json()["items"][0]["included"]["related_treatments"]
    assert [(e["slug"], e["title"]) for e in embedded] == [
        ("mitral-valve-repair", "Mitralklappenrekonstruktion")
    ]
    assert single.json()["included"]["related_treatments"][0]["url"] == (
        "/v1/treatments/mitral-valve-repair"
    )
