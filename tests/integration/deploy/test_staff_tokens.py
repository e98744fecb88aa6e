"""The operator's token command: create prints a working token once, list never shows it, revoke
locks it out; bad input is refused with a clear message and changes nothing."""

from __future__ import annotations

import asyncio
import uuid

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
