"""A site's API key may carry a URL template for its own pages: the documents it reads (JSON
and JSON-LD) then name those pages in `url` and in their links, while every other caller still
gets the API's paths, from the cache or not."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.runtime.access import api_keys
from tests.content_samples import condition, create_and_publish, treatment

Client = AsyncTestClient[Litestar]
SITE = "https://heart-clinic-finder.example"
TEMPLATE = SITE + "/{locale}/{collection}/{slug}"
MITRAL = "/v1/conditions/mitral-valve-insufficiency"
LD = {"Accept": "application/ld+json"}
REPAIR = treatment()["slug"]


@pytest.fixture
async def site_keys(db: asyncpg.Connection) -> dict[str, str]:
    _, server = await api_keys.create_api_key(
        db, name="heart-clinic-finder", origins=(), rate_per_minute=1000,
        site_url_template=TEMPLATE,
    )  # fmt: skip
    _, page = await api_keys.create_api_key(
        db, name="heart-clinic-finder", origins=(SITE,), rate_per_minute=1000,
        kind="publishable", site_url_template=TEMPLATE,
    )  # fmt: skip
    _, plain = await api_keys.create_api_key(
        db, name="plain-site", origins=(), rate_per_minute=1000
    )
    return {"server": server, "page": page, "plain": plain}


async def test_a_key_with_a_url_template_reads_documents_naming_its_own_pages(
    client: Client, editor: dict[str, str], site_keys: dict[str, str]
) -> None:
    await create_and_publish(client, editor, treatment(related_conditions=[]))
    await create_and_publish(client, editor, condition(related_treatments=[REPAIR]))
    # Read anonymously first, twice, so the API's own version is in the cache.
    for _ in range(2):
        assert (await client.get(MITRAL)).json()["url"] == MITRAL
    server = {"X-API-Key": site_keys["server"]}
    page = {"X-API-Key": site_keys["page"], "Origin": SITE}

    as_json = [await client.get(MITRAL, headers=server) for _ in range(2)]
    in_german = await client.get(MITRAL + "?locale=de", headers=page)
    as_ld = await client.get(MITRAL, headers=server | LD)
    plain = await client.get(MITRAL, headers={"X-API-Key": site_keys["plain"]} | LD)
    anonymous = await client.get(MITRAL)

    own = f"{SITE}/en/conditions/mitral-valve-insufficiency"
    assert [a.json()["url"] for a in as_json] == [own, own]
    assert in_german.json()["url"] == f"{SITE}/de/conditions/mitral-valve-insufficiency"
    ld: dict[str, Any] = as_ld.json()
    assert ld["url"] == own
    assert ld["about"]["possibleTreatment"] == [
        {
            "@type": "MedicalTherapy",
            "name": REPAIR,
            "url": f"{SITE}/en/treatments/{REPAIR}",
        }
    ]
    assert plain.json()["url"] == MITRAL
    assert anonymous.json()["url"] == MITRAL


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("ftp://site.example/{slug}", r"an http\(s\) URL"),
        ("https://site.example/{id}", "names id"),
        ("https://site.example/page", "must name {slug}"),
    ],
)
async def test_a_bad_url_template_is_refused_and_stores_nothing(
    db: asyncpg.Connection, template: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await api_keys.create_api_key(
            db, name="site", origins=(), rate_per_minute=10, site_url_template=template
        )
    assert await db.fetchval("SELECT count(*) FROM staff.api_keys") == 0
