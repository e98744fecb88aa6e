"""The admins' door to the API keys of third-party sites and apps, served by every service
(keys live beside staff tokens, shared by all): list them (never a key), issue one (the key
answered once), revoke one. What `python -m deploy.api_keys` does, over HTTP, audited as a
change like every staff request that is not a read."""

from __future__ import annotations

import uuid
from typing import Annotated

import asyncpg
import msgspec
from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody

from services.runtime.access import api_keys
from services.runtime.access.staff import staff_only
from services.runtime.core.errors import BadRequest, Conflict, FieldProblem, NotFound
from services.runtime.http.problems import MEDIA_TYPE, Problem
from services.runtime.service.running import RuntimeDependency

DEFAULT_RATE = 600
TOO_MANY = ResponseSpec(
    data_container=Problem,
    description="The consumer holds two active keys of this kind: revoke the older first",
    media_type=MEDIA_TYPE,
    generate_examples=False,
)


class KeyRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A consumer's name (lowercase letters, digits, '.', '-'), the key's kind, the browser
    origins a publishable key is bound to (none for a secret key), requests a minute, and the
    URL template of the site's pages (`{locale}`, `{collection}`, `{slug}`)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    kind: api_keys.Kind
    origins: Annotated[list[str], msgspec.Meta(max_length=20)] = []
    rate_per_minute: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = DEFAULT_RATE
    site_url_template: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class IssuedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A new key: `key` is in this answer only."""

    key: str
    api_key: api_keys.ApiKey


class ApiKeyController(Controller):
    path = "/admin/api-keys"
    tags = ("operations",)

    @get(
        "/",
        summary="Every consumer's API keys: kind, origins, rate, state; never a key",
        description="By consumer name, oldest first; revoked ones included (revoked_at).",
        **staff_only("admin"),
    )
    async def list_api_keys(self, runtime: RuntimeDependency) -> list[api_keys.ApiKey]:
        async with runtime.pool.acquire() as conn:
            return await api_keys.list_api_keys(conn)

    @post(
        "/",
        summary="Issue an API key: the key is shown once",
        description=(
            "A publishable key (cb_pk_) needs the origins of the site that may use it; a "
            "secret key (cb_sk_) has none. A consumer holds at most two active keys of a kind: "
            "a third is a 409 (revoke the older first). Every replica accepts the key within "
            "API_KEY_REFRESH seconds."
        ),
        status_code=201,
        responses={409: TOO_MANY},
        **staff_only("admin"),
    )
    async def issue_api_key(
        self, runtime: RuntimeDependency, data: JSONBody[KeyRequest]
    ) -> Response[IssuedKey]:
        origins = tuple(dict.fromkeys(o.strip().rstrip("/") for o in data.origins))
        try:
            api_keys.check_key_fields(
                data.name, origins, data.rate_per_minute, data.kind, data.site_url_template
            )
        except ValueError as exc:
            raise BadRequest([FieldProblem(field=_field_of(str(exc)), message=str(exc))]) from None
        async with runtime.pool.acquire() as conn:
            try:
                record, key = await api_keys.create_api_key(
                    conn,
                    name=data.name,
                    origins=origins,
                    rate_per_minute=data.rate_per_minute,
                    kind=data.kind,
                    site_url_template=data.site_url_template,
                )
            except api_keys.TooManyKeys as exc:
                raise Conflict(str(exc)) from None
            except asyncpg.UniqueViolationError:
                raise Conflict(
                    f"another {data.kind} key for {data.name!r} was issued meanwhile; try again"
                ) from None
        return Response(IssuedKey(key=key, api_key=record), status_code=201)

    @post(
        "/{key_id:uuid}/revoke",
        summary="Revoke an API key: refused everywhere within API_KEY_REFRESH seconds",
        description="404 for an unknown key or one revoked before.",
        status_code=204,
        **staff_only("admin"),
    )
    async def revoke_api_key(self, runtime: RuntimeDependency, key_id: FromPath[uuid.UUID]) -> None:
        async with runtime.pool.acquire() as conn:
            if not await api_keys.revoke_key(conn, key_id):
                raise NotFound(f"no active API key {key_id}: unknown or revoked")


def _field_of(message: str) -> str:
    """The request field a check_key_fields message is about: each message begins by it."""
    for start, field in (
        ("name ", "name"),
        ("kind ", "kind"),
        ("origin ", "origins"),
        ("a publishable key", "origins"),
        ("a secret key", "origins"),
        ("rate ", "rate_per_minute"),
        ("site URL", "site_url_template"),
    ):
        if message.startswith(start):
            return field
    return "body"
