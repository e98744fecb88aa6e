"""The example site's static server (deploy/stack/site.py), as `make run` starts it: the site's
files, and config.json from the stack's data folder (the APIs' URLs and the publishable key),
nothing cached; nothing outside the site's folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.embedded import free_port
from deploy.stack.site import SITE_ROOT, SiteServer, site_config

SERVICES = {
    "content": "http://127.0.0.1:8001",
    "inquiries": "http://127.0.0.1:8002",
    "support": "http://127.0.0.1:8004",
}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServer]:
    server = SiteServer(free_port(), tmp_path / "site" / "config.json")
    server.start()
    yield server
    server.stop()


def test_the_pages_read_the_apis_and_the_publishable_key_from_config_json(
    site: SiteServer,
) -> None:
    before = httpx.get(f"{site.url}/config.json")
    assert before.status_code == 503  # written once the services answer
    site.publish(site_config(SERVICES, "cb_pk_example"))
    answer = httpx.get(f"{site.url}/config.json?fresh=1")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    config = json.loads(answer.text)
    assert config["publishable_key"] == "cb_pk_example"
    assert config["content"] == SERVICES["content"]
    assert config["inquiries"] == SERVICES["inquiries"]
    assert config["support"] == SERVICES["support"]
    # It names a key: only the stack's owner reads the file on disk.
    assert site.config_file.stat().st_mode & 0o077 == 0


def test_the_sites_files_are_served_as_they_are(site: SiteServer) -> None:
    names = ("index.html", "condition.html", "search.html", "inquiry.html", "status.html")
    for name in (*names, "support.html", "site.js"):
        answer = httpx.get(f"{site.url}/{name}")
        assert answer.status_code == 200, name
        assert answer.content == (SITE_ROOT / name).read_bytes()
        assert answer.headers["cache-control"] == "no-store"
    assert httpx.get(f"{site.url}/site.js").headers["content-type"] == "text/javascript"


def test_pages_answer_at_clean_urls_as_static_hosts_serve_them(site: SiteServer) -> None:
    """The links in patients' emails (NOTIFICATIONS_STATUS_URL, NOTIFICATIONS_SUPPORT_URL)."""
    for path, name in (
        ("/status?inquiry=7c0e", "status.html"),
        ("/support?inquiry=7c0e&case=9a1b", "support.html"),
        ("/inquiry", "inquiry.html"),
    ):
        answer = httpx.get(f"{site.url}{path}")
        assert answer.status_code == 200, path
        assert answer.content == (SITE_ROOT / name).read_bytes()
        assert answer.headers["content-type"] == "text/html"


@pytest.mark.parametrize(
    "path",
    ["/../pyproject.toml", "/%2e%2e/pyproject.toml", "/nothing.html", "/nothing", "/../README"],
)
def test_nothing_outside_the_site_is_served(site: SiteServer, path: str) -> None:
    assert httpx.get(f"{site.url}{path}").status_code == 404


def test_stopping_removes_config_json(tmp_path: Path) -> None:
    server = SiteServer(free_port(), tmp_path / "config.json")
    server.start()
    server.publish(site_config(SERVICES, "cb_pk_example"))
    server.stop()
    assert not server.config_file.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/index.html", timeout=2)
