"""The consent notices a site shows before the patient submits: per purpose, in en, de, uk and
ru, with the content service's locale rules (?locale= first, then Accept-Language, a region
falls back to its language and then to en) and Content-Language naming the one served."""

from __future__ import annotations

from typing import Any

import pytest

from services.inquiries.domain.consent import CURRENT_VERSION
from tests.integration.inquiries.casefile import Client

URL = "/v1/consent-notices"
PURPOSES = ["health_data_processing", "review_by_staff", "forwarding_to_clinics", "partner_sharing"]


@pytest.mark.parametrize("locale", ["en", "de", "uk", "ru"])
async def test_the_notice_is_served_in_each_language_with_every_purpose(
    client: Client, locale: str
) -> None:
    response = await client.get(URL, params={"locale": locale})

    assert response.status_code == 200, response.text
    assert response.headers["content-language"] == locale
    notice: dict[str, Any] = response.json()
    assert (notice["version"], notice["locale"]) == (CURRENT_VERSION, locale)
    assert [p["purpose"] for p in notice["purposes"]] == PURPOSES
    assert [p["required"] for p in notice["purposes"]] == [True, False, False, False]
    for purpose in notice["purposes"]:
        assert all(purpose[field] for field in ("title", "text", "retention", "recipients"))


async def test_each_language_has_its_own_text(client: Client) -> None:
    titles = {
        locale: (await client.get(URL, params={"locale": locale})).json()["purposes"][3]["title"]
        for locale in ("en", "de", "uk", "ru")
    }

    assert len(set(titles.values())) == 4


@pytest.mark.parametrize(
    ("params", "headers", "served"),
    [
        ({"locale": "uk-UA"}, {}, "uk"),
        ({"locale": "de-AT"}, {}, "de"),
        ({"locale": "en-GB"}, {}, "en"),
        ({}, {"Accept-Language": "fr;q=1, ru;q=0.8"}, "ru"),
        ({}, {"Accept-Language": "fr"}, "en"),
        ({}, {}, "en"),
    ],
)
async def test_a_region_or_a_header_falls_back_as_content_does(
    client: Client, params: dict[str, str], headers: dict[str, str], served: str
) -> None:
    response = await client.get(URL, params=params, headers=headers)

    assert response.status_code == 200
    assert response.headers["content-language"] == served
    assert response.json()["locale"] == served
    assert "Accept-Language" in response.headers["vary"]


async def test_a_published_version_is_served_by_name(client: Client) -> None:
    response = await client.get(URL, params={"version": CURRENT_VERSION, "locale": "de"})

    assert response.json()["version"] == CURRENT_VERSION
    assert response.headers["cache-control"] == "public, max-age=86400"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"locale": "fr"}, "locale"),
        ({"locale": "not a tag"}, "locale"),
        ({"version": "1"}, "version"),
    ],
)
async def test_an_unknown_locale_or_version_is_a_400_naming_it(
    client: Client, params: dict[str, str], field: str
) -> None:
    response = await client.get(URL, params=params)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]
