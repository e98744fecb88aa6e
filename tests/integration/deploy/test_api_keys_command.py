"""The operator's API key command: a created key is printed once and admitted, list never shows
it, revoke frees the name; bad input is refused clearly and stores nothing."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from deploy.api_keys import main
from services.runtime.access import api_keys


def run(database_url: str, *argv: str) -> int:
    return main(list(argv), environ={"DATABASE_URL": database_url})


def active(database_url: str) -> dict[bytes, api_keys.ApiKey]:
    async def load() -> dict[bytes, api_keys.ApiKey]:
        conn = await asyncpg.connect(database_url)
        try:
            return await api_keys.active_keys(conn)
        finally:
            await conn.close()

    return asyncio.run(load())


def test_a_created_key_is_active_listed_without_its_secret_and_revocable(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["create", "--name", "heart-clinic-finder", "--origin", "https://hcf.example"]
    assert run(database_url, *argv, "--rate", "120") == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith(api_keys.KEY_PREFIX)
    found = active(database_url)[api_keys.hash_key(key)]
    assert (found.name, found.allowed_origins, found.rate_per_minute) == (
        "heart-clinic-finder",
        ("https://hcf.example",),
        120,
    )

    assert run(database_url, "list") == 0
    listing = capsys.readouterr().out
    assert "heart-clinic-finder" in listing
    assert "https://hcf.example" in listing
    assert key not in listing

    assert run(database_url, *argv) == 1
    assert "revoke it first" in capsys.readouterr().err

    assert run(database_url, "revoke", "heart-clinic-finder") == 0
    assert active(database_url) == {}
    # The name is free again for a new key.
    assert run(database_url, *argv) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "--name", "Bad Name"], "lowercase"),
        (["create", "--name", "site", "--origin", "https://site.example/app"], "no path"),
        (["create", "--name", "site", "--rate", "0"], "at least 1"),
        (["revoke", "nobody"], "no active API key named 'nobody'"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(database_url, *argv) == 1
    assert message in capsys.readouterr().err
    assert active(database_url) == {}
