"""Staff tokens expire and rotate: an expired token is a 401 that says it expired (not
unknown); a rotated token keeps working for its grace period and no longer; only admins
rotate, and bad rotations are refused and change nothing."""

from __future__ import annotations

import uuid

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.runtime.access import staff
from tests.integration.runtime.staff_service import bearer


async def expire(db: asyncpg.Connection, token_id: uuid.UUID) -> None:
    await db.execute(
        "UPDATE staff.staff_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
        token_id,
    )


async def test_an_expired_token_is_a_401_that_says_it_expired(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    token_id, token = await staff.create_token(db, person="Eva Editor", roles=("editor",))
    assert (await client.get("/v1/desk", headers=bearer(token))).is_success
    await expire(db, token_id)

    # No cache lets it through: the next request is refused.
    answer = await client.get("/v1/desk", headers=bearer(token))
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "expired" in answer.json()["detail"]
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert "expired" in answer.headers["www-authenticate"]

    unknown = await client.get("/v1/desk", headers=bearer(staff.TOKEN_PREFIX + "never-issued"))
    assert unknown.status_code == 401
    assert "unknown or revoked" in unknown.json()["detail"]
    assert "expired" not in unknown.json()["detail"]


async def test_a_token_issued_with_a_short_lifetime_expires_after_it(
    db: asyncpg.Connection,
) -> None:
    token_id, token = await staff.create_token(
        db, person="Eva Editor", roles=("editor",), ttl=staff.check_ttl_days(1)
    )
    lifetime = await db.fetchval(
        "SELECT expires_at - created_at FROM staff.staff_tokens WHERE id = $1", token_id
    )
    assert lifetime == staff.check_ttl_days(1)
    assert await staff.find_principal(db, token) is not None
    await expire(db, token_id)
    assert await staff.find_principal(db, token) is None
    assert isinstance(await staff.verify(db, token), staff.ExpiredToken)


async def test_a_rotated_token_works_during_its_grace_and_not_after(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    old_id, old = await staff.create_token(db, person="Eva Editor", roles=("editor",))
    _, admin = await staff.create_token(db, person="Ada Admin", roles=("admin",))

    answer = await client.post(
        f"/admin/staff-tokens/{old_id}/rotate",
        json={"grace_hours": 1, "ttl_days": 30},
        headers=bearer(admin),
    )
    assert answer.status_code == 201, answer.text
    assert "no-store" in answer.headers["cache-control"]
    rotated = answer.json()
    assert rotated["previous_id"] == str(old_id)
    assert (rotated["person"], rotated["roles"]) == ("Eva Editor", ["editor"])
    new = rotated["token"]
    assert new.startswith(staff.TOKEN_PREFIX)
    assert new != old

    # During the grace both work.
    assert (await client.get("/v1/desk", headers=bearer(old))).is_success
    assert (await client.get("/v1/desk", headers=bearer(new))).is_success
    lifetime = await db.fetchval(
        "SELECT expires_at - created_at FROM staff.staff_tokens WHERE id = $1",
        uuid.UUID(rotated["id"]),
    )
    assert lifetime == staff.check_ttl_days(30)

    # The grace over, the old one is refused, saying it was rotated; the new one works.
    await expire(db, old_id)
    refused = await client.get("/v1/desk", headers=bearer(old))
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]
    assert "rotated" in refused.json()["detail"]
    assert (await client.get("/v1/desk", headers=bearer(new))).is_success

    # The secret is never stored, nor in the audit log.
    assert await db.fetchval("SELECT count(*) FROM content.audit_log WHERE route LIKE '%rotate'")
    assert not await db.fetchval(
        "SELECT count(*) FROM content.audit_log WHERE target::text LIKE $1", f"%{new}%"
    )


async def test_a_rotation_without_a_body_takes_the_defaults(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    old_id, _ = await staff.create_token(db, person="Eva Editor", roles=("editor",))
    _, admin = await staff.create_token(db, person="Ada Admin", roles=("admin",))
    answer = await client.post(f"/admin/staff-tokens/{old_id}/rotate", headers=bearer(admin))
    assert answer.status_code == 201, answer.text
    grace = await db.fetchval(
        "SELECT expires_at - now() FROM staff.staff_tokens WHERE id = $1", old_id
    )
    assert staff.hours(23) < grace <= staff.hours(staff.DEFAULT_GRACE_HOURS)


async def test_bad_rotations_are_refused_and_issue_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    old_id, editor = await staff.create_token(db, person="Eva Editor", roles=("editor",))
    _, admin = await staff.create_token(db, person="Ada Admin", roles=("admin",))
    path = f"/admin/staff-tokens/{old_id}/rotate"
    before = await db.fetchval("SELECT count(*) FROM staff.staff_tokens")

    assert (await client.post(path)).status_code == 401
    assert (await client.post(path, headers=bearer(editor))).status_code == 403
    for body, field in (
        ({"grace_hours": -1}, "grace_hours"),
        ({"grace_hours": 721}, "grace_hours"),
        ({"ttl_days": 0}, "ttl_days"),
        ({"ttl_days": "long"}, "ttl_days"),
        ({"grace": 1}, "grace"),
    ):
        answer = await client.post(path, json=body, headers=bearer(admin))
        assert answer.status_code == 400, body
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in answer.text, body
    unknown = await client.post(f"/admin/staff-tokens/{uuid.uuid4()}/rotate", headers=bearer(admin))
    assert unknown.status_code == 404
    bad_id = await client.post("/admin/staff-tokens/not-an-id/rotate", headers=bearer(admin))
    assert bad_id.status_code in {400, 404}
    assert await db.fetchval("SELECT count(*) FROM staff.staff_tokens") == before

    assert (await client.post(path, headers=bearer(admin))).status_code == 201
    again = await client.post(path, headers=bearer(admin))
    assert again.status_code == 409
    assert "already rotated" in again.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM staff.staff_tokens") == before + 1
