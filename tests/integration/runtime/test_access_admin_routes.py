"""Admins list, issue and revoke staff tokens and API keys over HTTP on any service: secrets
are answered once and never listed nor audited; bad input is a 400 naming the field and
issues nothing; other roles are refused; every change is in the audit log."""

from __future__ import annotations

import uuid

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.runtime.access import staff
from tests.integration.runtime.staff_service import bearer


async def test_an_admin_issues_lists_and_revokes_a_staff_token(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    _, admin = await staff.create_token(db, person="Ada Admin", roles=("admin",))
    answer = await client.post(
        "/admin/staff-tokens",
        json={"person": " Eva Editor ", "roles": ["editor", "editor"], "ttl_days": 7},
        headers=bearer(admin),
    )
    assert answer.status_code == 201, answer.text
    assert "no-store" in answer.headers["cache-control"]
    issued = answer.json()
    assert (issued["person"], issued["roles"]) == ("Eva Editor", ["editor"])
    assert issued["token"].startswith(staff.TOKEN_PREFIX)
    assert (await client.get("/v1/desk", headers=bearer(issued["token"]))).is_success
    lifetime = await db.fetchval(
        "SELECT expires_at - created_at FROM staff.staff_tokens WHERE id = $1",
        uuid.UUID(issued["id"]),
    )
    assert lifetime == staff.check_ttl_days(7)

    listed = await client.get("/admin/staff-tokens", headers=bearer(admin))
    assert listed.status_code == 200
    assert issued["id"] in {t["id"] for t in listed.json()}
    assert issued["token"] not in listed.text
    assert "token_hash" not in listed.text

    path = f"/admin/staff-tokens/{issued['id']}/revoke"
    assert (await client.post(path, headers=bearer(admin))).status_code == 204
    assert (await client.get("/v1/desk", headers=bearer(issued["token"]))).status_code == 401
    assert (await client.post(path, headers=bearer(admin))).status_code == 404

    routes = await db.fetch(
        "SELECT route, status FROM content.audit_log WHERE person = 'Ada Admin' ORDER BY id"
    )
    assert [(r["route"], r["status"]) for r in routes] == [
        ("/admin/staff-tokens", 201),
        ("/admin/staff-tokens/{token_id}/revoke", 204),
        ("/admin/staff-tokens/{token_id}/revoke", 404),
    ]
    assert not await db.fetchval(
        "SELECT count(*) FROM content.audit_log WHERE target::text LIKE $1",
        f"%{issued['token']}%",
    )


async def test_bad_staff_tokens_are_refused_and_nothing_is_issued(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    _, editor = await staff.create_token(db, person="Eva Editor", roles=("editor",))
    _, admin = await staff.create_token(db, person="Ada Admin", roles=("admin",))
    before = await db.fetchval("SELECT count(*) FROM staff.staff_tokens")
    good = {"person": "Anna", "roles": ["coordinator"]}
    assert (await client.post("/admin/staff-tokens", json=good)).status_code == 401
    assert (
        await client.post("/admin/staff-tokens", json=good, headers=bearer(editor))
    ).status_code == 403
    assert (await client.get("/admin/staff-tokens", headers=bearer(editor))).status_code == 403
    for body, field in (
        ({"person": "Anna", "roles": []}, "roles"),
        ({"person": "Anna", "roles": ["janitor"]}, "roles"),
        ({"person": "  ", "roles": ["editor"]}, "person"),
        ({"roles": ["editor"]}, "person"),
        ({"person": "Anna", "roles": ["editor"], "ttl_days": 0}, "ttl_days"),
        ({"person": "Anna", "roles": ["editor"], "secret": "x"}, "secret"),
    ):
        answer = await client.post("/admin/staff-tokens", json=body, headers=bearer(admin))
        assert answer.status_code == 400, body
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in answer.text, body
    unknown = await client.post(f"/admin/staff-tokens/{uuid.uuid4()}/revoke", headers=bearer(admin))
    assert unknown.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM staff.staff_tokens") == before


async def test_an_admin_issues_lists_and_revokes_api_keys(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    _, admin = await staff.create_token(db, person="Ada Admin", roles=("admin",))
    body = {
        "name": "heart-finder",
        "kind": "publishable",
        "origins": ["https://heart.example/", "https://heart.example"],
        "rate_per_minute": 1200,
        "site_url_template": "https://heart.example/{locale}/{slug}",
    }
    answer = await client.post("/admin/api-keys", json=body, headers=bearer(admin))
    assert answer.status_code == 201, answer.text
    issued = answer.json()
    assert issued["key"].startswith("cb_pk_")
    assert issued["api_key"]["allowed_origins"] == ["https://heart.example"]
    assert issued["api_key"]["rate_per_minute"] == 1200
    listed = await client.get("/admin/api-keys", headers=bearer(admin))
    assert issued["api_key"]["id"] in {k["id"] for k in listed.json()}
    assert issued["key"] not in listed.text

    secret = {"name": "heart-finder", "kind": "secret"}
    second = await client.post("/admin/api-keys", json=secret, headers=bearer(admin))
    assert second.status_code == 201
    assert second.json()["key"].startswith("cb_sk_")
    assert (await client.post("/admin/api-keys", json=secret, headers=bearer(admin))).is_success
    third = await client.post("/admin/api-keys", json=secret, headers=bearer(admin))
    assert third.status_code == 409
    assert "revoke the older one" in third.json()["detail"]

    path = f"/admin/api-keys/{issued['api_key']['id']}/revoke"
    assert (await client.post(path, headers=bearer(admin))).status_code == 204
    assert (await client.post(path, headers=bearer(admin))).status_code == 404
    revoked = await db.fetchval(
        "SELECT revoked_at FROM staff.api_keys WHERE id = $1",
        uuid.UUID(issued["api_key"]["id"]),
    )
    assert revoked is not None
    # Three issued, one refused, one revoked, one revoked again (404): changes, not the reads.
    statuses = await db.fetch(
        "SELECT status FROM content.audit_log WHERE route LIKE '/admin/api-keys%' ORDER BY id"
    )
    assert [r["status"] for r in statuses] == [201, 201, 201, 409, 204, 404]


async def test_bad_api_keys_are_refused_naming_the_field_and_nothing_is_issued(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    _, editor = await staff.create_token(db, person="Eva Editor", roles=("editor",))
    _, admin = await staff.create_token(db, person="Ada Admin", roles=("admin",))
    before = await db.fetchval("SELECT count(*) FROM staff.api_keys")
    good = {"name": "site", "kind": "secret"}
    assert (await client.post("/admin/api-keys", json=good)).status_code == 401
    assert (
        await client.post("/admin/api-keys", json=good, headers=bearer(editor))
    ).status_code == 403
    assert (await client.get("/admin/api-keys", headers=bearer(editor))).status_code == 403
    for body, field in (
        ({"name": "Bad Name", "kind": "secret"}, "name"),
        ({"name": "site", "kind": "private"}, "kind"),
        ({"name": "site", "kind": "publishable"}, "origins"),
        ({"name": "site", "kind": "publishable", "origins": ["heart.example"]}, "origins"),
        ({"name": "site", "kind": "publishable", "origins": ["https://a.example/x"]}, "origins"),
        ({"name": "site", "kind": "secret", "origins": ["https://a.example"]}, "origins"),
        ({"name": "site", "kind": "secret", "rate_per_minute": 0}, "rate_per_minute"),
        ({"name": "site", "kind": "secret", "site_url_template": "https://a/x"}, "site_url"),
    ):
        answer = await client.post("/admin/api-keys", json=body, headers=bearer(admin))
        assert answer.status_code == 400, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in answer.text, body
    unknown = await client.post(f"/admin/api-keys/{uuid.uuid4()}/revoke", headers=bearer(admin))
    assert unknown.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM staff.api_keys") == before


async def test_any_staff_token_reads_who_it_is_and_nothing_else_does(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    _, lead = await staff.create_token(db, person="Lea Lead", roles=("lead_coordinator",))
    revoked_id, revoked = await staff.create_token(db, person="Rex", roles=("editor",))
    await staff.revoke_token(db, revoked_id)

    me = await client.get("/staff/me", headers=bearer(lead))
    assert me.status_code == 200, me.text
    assert me.json() == {"person": "Lea Lead", "roles": ["lead_coordinator"]}
    assert "no-store" in me.headers["cache-control"]
    for headers in (bearer(revoked), bearer("cbs_not-a-token"), {}):
        assert (await client.get("/staff/me", headers=headers)).status_code == 401
