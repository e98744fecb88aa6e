"""The widget a site embeds is served by inquiries itself: one ES module that any page may load
(module scripts are fetched with CORS, so it is `Access-Control-Allow-Origin: *`), cached a
while, and small; no other file of the service is reachable through its route."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.inquiries.api.widget import WIDGET_DIR
from services.inquiries.app import InquiriesSettings, create_app

Client = AsyncTestClient[Litestar]
PAGE = "https://heart-clinic-finder.example"
# The widget's budget, gzipped: it loads on third-party pages, often on phones abroad.
BUDGET_GZIPPED = 25_000


@pytest.fixture
async def client(inquiries_settings: InquiriesSettings) -> AsyncIterator[Client]:
    async with AsyncTestClient(create_app(inquiries_settings)) as client:
        yield client


async def test_any_page_may_load_the_widget_as_a_module_script(client: Client) -> None:
    answer = await client.get("/widget/carebridge.js", headers={"Origin": PAGE})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["cache-control"] == "max-age=3600, public"
    assert "attachment" not in answer.headers.get("content-disposition", "")
    assert 'customElements.define("carebridge-inquiry"' in answer.text
    assert 'customElements.define("carebridge-status"' in answer.text


@pytest.mark.parametrize(
    "name", ["widget.py", "..%2Fapp.py", "carebridge.js.map", "%2E%2E%2Fmigrations"]
)
async def test_no_other_file_is_served_through_the_widget_route(client: Client, name: str) -> None:
    answer = await client.get(f"/widget/{name}")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_the_widget_stays_within_its_size_budget() -> None:
    source = (WIDGET_DIR / "carebridge.js").read_bytes()
    assert len(gzip.compress(source, compresslevel=6)) < BUDGET_GZIPPED
    # Nothing loaded from elsewhere: no CDN, no third party (the header comment's example aside).
    code = b"\n".join(line for line in source.splitlines() if not line.lstrip().startswith(b"//"))
    assert b"import " not in code.replace(b"import.meta", b"")
    assert b"http://" not in code
    assert b"https://" not in code
