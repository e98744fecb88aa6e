"""The operator's token command: create prints a working token once, list never shows it, revoke
locks it out; bad input is refused with a clear message and changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import pytest

from deploy.tokens import main
from services.runtime.access import staff


def run(database_url: str, *argv: str) -> int:
    return main(list(argv), environ={"DATABASE_URL": database_url})


def principal(database_url: str, token: str) -> staff.Principal | None:
    async def find() -> staff.Principal | None:
        conn = await asyncpg.connect(database_url)
        try:
            return await staff.find_principal(conn, token)
        finally:
            await conn.close()

    return asyncio.run(find())


def sql(database_url: str, query: str, *args: object) -> object:
    async def run_query() -> object:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    return asyncio.run(run_query())


def token_count(database_url: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM staff.staff_tokens"))
        finally:
            await conn.close()

    return asyncio.run(count())


def test_a_created_token_works_is_listed_without_its_secret_and_stops_when_revoked(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(database_url, "create", "--person", "Anna Coordinator", "--role", "coordinator") == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith(staff.TOKEN_PREFIX)
    found = principal(database_url, token)
    assert found is not None
    assert (found.person, found.roles) == ("Anna Coordinator", ("coordinator",))

    assert run(database_url, "list") == 0
    listing = capsys.readouterr().out
    assert "Anna Coordinator" in listing
    assert token not in listing
    assert str(found.token_id) in listing

    assert run(database_url, "revoke", str(found.token_id)) == 0
    assert principal(database_url, token) is None
    assert run(database_url, "list") == 0
    assert "Anna Coordinator" not in capsys.readouterr().out
    assert run(database_url, "list", "--all") == 0
    assert "Anna Coordinator" in capsys.readouterr().out


def test_several_roles_make_one_token(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["create", "--person", "Ed", "--role", "editor", "--role", "coordinator"]
    assert run(database_url, *argv) == 0
    found = principal(database_url, capsys.readouterr().out.strip())
    assert found is not None
    assert set(found.roles) == {"editor", "coordinator"}


def test_revoking_an_unknown_or_revoked_token_is_an_error(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(database_url, "revoke", str(uuid.uuid4())) == 1
    assert "unknown or already revoked" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "--person", "Mallory", "--role", "root"], "invalid choice: 'root'"),
        (["create", "--role", "admin"], "--person"),
        (["create", "--person", "Mallory"], "--role"),
        (["revoke", "not-a-uuid"], "is not a token id"),
        (["create", "--person", "Ed", "--role", "editor", "--ttl-days", "0"], "not a lifetime"),
        (["create", "--person", "Ed", "--role", "editor", "--ttl-days", "x"], "not a lifetime"),
        (["create", "--person", "Ed", "--role", "editor", "--ttl-days", "9999"], "1 to 3650"),
        (["rotate", "not-a-uuid"], "is not a token id"),
        (["rotate", str(uuid.uuid4()), "--grace-hours", "-1"], "not a grace period"),
        (["rotate", str(uuid.uuid4()), "--grace-hours", "721"], "0 to 720"),
    ],
)
def test_bad_arguments_are_refused_and_issue_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    before = token_count(database_url)
    with pytest.raises(SystemExit) as exit_:
        run(database_url, *argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert token_count(database_url) == before


def test_an_empty_person_is_refused(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = token_count(database_url)
    assert run(database_url, "create", "--person", "  ", "--role", "admin") == 2
    assert "--person must not be empty" in capsys.readouterr().err
    assert token_count(database_url) == before


def test_an_unreachable_database_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("postgresql://nobody@127.0.0.1:1/none", "list") == 1
    assert "cannot reach the database" in capsys.readouterr().err


def test_a_token_lives_ttl_days_and_the_listing_shows_its_expiry(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(database_url, "create", "--person", "Tia", "--role", "editor", "--ttl-days", "7") == 0
    )
    found = principal(database_url, capsys.readouterr().out.strip())
    assert found is not None
    lifetime = sql(
        database_url,
        "SELECT expires_at - created_at FROM staff.staff_tokens WHERE id = $1",
        found.token_id,
    )
    assert lifetime == timedelta(days=7)
    expires = sql(
        database_url, "SELECT expires_at FROM staff.staff_tokens WHERE id = $1", found.token_id
    )
    assert run(database_url, "list") == 0
    listing = capsys.readouterr().out
    assert "expires" in listing.splitlines()[0]
    assert f"{expires:%Y-%m-%d %H:%M:%S}" in listing


def test_without_a_lifetime_a_token_lives_the_configured_default(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"DATABASE_URL": database_url, "STAFF_TOKEN_TTL_DAYS": "30"}
    assert main(["create", "--person", "Dee", "--role", "editor"], environ=env) == 0
    found = principal(database_url, capsys.readouterr().out.strip())
    assert found is not None
    assert sql(
        database_url,
        "SELECT expires_at - created_at FROM staff.staff_tokens WHERE id = $1",
        found.token_id,
    ) == timedelta(days=30)


def test_a_bad_configured_lifetime_is_refused_and_issues_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = token_count(database_url)
    env = {"DATABASE_URL": database_url, "STAFF_TOKEN_TTL_DAYS": "forever"}
    assert main(["create", "--person", "Dee", "--role", "editor"], environ=env) == 2
    assert "STAFF_TOKEN_TTL_DAYS is invalid" in capsys.readouterr().err
    assert token_count(database_url) == before


def test_an_expired_token_is_listed_as_expired_and_no_longer_found(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(database_url, "create", "--person", "Old Olga", "--role", "editor") == 0
    token = capsys.readouterr().out.strip()
    found = principal(database_url, token)
    assert found is not None
    sql(
        database_url,
        "UPDATE staff.staff_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
        found.token_id,
    )
    assert principal(database_url, token) is None
    assert run(database_url, "list") == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "Old Olga" in x)
    assert " expired " in line


def test_rotation_prints_a_new_token_once_and_leaves_the_old_one_its_grace(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(database_url, "create", "--person", "Rosa", "--role", "coordinator") == 0
    old = capsys.readouterr().out.strip()
    old_principal = principal(database_url, old)
    assert old_principal is not None
    assert run(database_url, "rotate", str(old_principal.token_id), "--grace-hours", "2") == 0
    out = capsys.readouterr()
    new = out.out.strip()
    assert new.startswith(staff.TOKEN_PREFIX)
    assert new != old
    assert "shown once" in out.err
    new_principal = principal(database_url, new)
    assert new_principal is not None
    assert (new_principal.person, new_principal.roles) == ("Rosa", ("coordinator",))
    # The old token still works, until two hours from now.
    assert principal(database_url, old) is not None
    left = sql(
        database_url,
        "SELECT expires_at - now() FROM staff.staff_tokens WHERE id = $1",
        old_principal.token_id,
    )
    assert isinstance(left, timedelta)
    assert timedelta(hours=1, minutes=59) < left <= timedelta(hours=2)
    # Rotating it again is refused: its replacement is the one to rotate.
    assert run(database_url, "rotate", str(old_principal.token_id)) == 1
    assert "already rotated" in capsys.readouterr().err


def test_rotating_an_unknown_token_is_an_error_and_issues_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = token_count(database_url)
    assert run(database_url, "rotate", str(uuid.uuid4())) == 1
    assert "unknown or revoked" in capsys.readouterr().err
    assert token_count(database_url) == before
