"""The operator's API key command: a created key is printed once and admitted, list never shows
it, a consumer holds two keys of a kind for rotation, revoke frees a slot; bad input is refused
clearly and stores nothing."""

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
    argv = ["create", "--name", "heart-clinic-finder", "--kind", "publishable"]
    argv += ["--origin", "https://hcf.example"]
    assert run(database_url, *argv, "--rate", "120") == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("cb_pk_")
    found = active(database_url)[api_keys.hash_key(key)]
    assert (found.name, found.kind, found.allowed_origins, found.rate_per_minute) == (
        "heart-clinic-finder",
        "publishable",
        ("https://hcf.example",),
        120,
    )
    # The same consumer's server key: a kind of its own, with its own prefix.
    assert run(database_url, "create", "--name", "heart-clinic-finder", "--kind", "secret") == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("cb_sk_")
    assert active(database_url)[api_keys.hash_key(secret)].kind == "secret"

    assert run(database_url, "list") == 0
    listing = capsys.readouterr().out
    assert "heart-clinic-finder" in listing
    assert "https://hcf.example" in listing
    assert key not in listing
    assert secret not in listing

    # Rotation: a second publishable key while the first still works; a third is refused.
    assert run(database_url, *argv) == 0
    successor = capsys.readouterr().out.strip()
    assert {api_keys.hash_key(key), api_keys.hash_key(successor)} <= set(active(database_url))
    assert run(database_url, *argv) == 1
    assert "revoke the older one first" in capsys.readouterr().err
    first_id = str(found.id)
    assert run(database_url, "revoke", "heart-clinic-finder", "--id", first_id) == 0
    assert set(active(database_url)) == {api_keys.hash_key(successor), api_keys.hash_key(secret)}

    assert run(database_url, "revoke", "heart-clinic-finder") == 0
    assert active(database_url) == {}
    # The name is free again for new keys.
    assert run(database_url, *argv) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "--name", "Bad Name"], "lowercase"),
        (
            [
                "create",
                "--name",
                "site",
                "--kind",
                "publishable",
                "--origin",
                "https://s.example/a",
            ],
            "no path",
        ),
        (["create", "--name", "site", "--kind", "publishable"], "needs the origins"),
        (["create", "--name", "site", "--origin", "https://site.example"], "has no origins"),
        (["create", "--name", "site", "--rate", "0"], "at least 1"),
        (["create", "--name", "site", "--site-url", "https://s.example/{id}"], "names id"),
        (["revoke", "site", "--id", "00000000-0000-0000-0000-000000000000"], "with id"),
        (["revoke", "nobody"], "no active API key named 'nobody'"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(database_url, *argv) == 1
    assert message in capsys.readouterr().err
    assert active(database_url) == {}
