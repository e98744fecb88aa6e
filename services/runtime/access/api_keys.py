"""API keys of third-party sites and apps (consumers): stored as SHA-256 hashes in the identity
schema beside staff tokens, each with its kind, the browser origins allowed to use it and a rate
limit.

Two kinds, told apart by their prefix so a secret scanner matches the one that must never leak:
a publishable key (`cb_pk_`) is meant to sit in a site's pages, so it is bound to the site's
origins and refused without one of them (consumer_access.py); a secret key (`cb_sk_`) is for a
site's server and is refused when a browser's Origin comes with it. A consumer holds at most two
active keys of each kind, so a key rotates without a gap: issue the second, deploy it, revoke the
first.

Requests look keys up in a snapshot of the active ones, refreshed every few seconds, so the
request path never waits for the database; a key created or revoked takes effect within that
interval on every replica."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
import uuid
from datetime import datetime
from typing import Literal, get_args

import asyncpg
import msgspec

from services.runtime.access.staff import SCHEMA
from services.runtime.core.db import Connection, Pool

Kind = Literal["publishable", "secret"]
KINDS: tuple[Kind, ...] = get_args(Kind)
PREFIXES: dict[Kind, str] = {"publishable": "cb_pk_", "secret": "cb_sk_"}
# Keys a consumer may hold at once, per kind: the one in use and its successor.
ACTIVE_PER_KIND = 2
_NAME = re.compile(r"^[a-z0-9]+([.-][a-z0-9]+)*$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_TEMPLATE_FIELDS = re.compile(r"\{([^{}]*)\}")
TEMPLATE_FIELDS = frozenset({"collection", "slug", "locale"})


class TooManyKeys(Exception):
    """The consumer holds two active keys of this kind already: one must be revoked first."""


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    kind: Kind = "secret"
    allowed_origins: tuple[str, ...]
    rate_per_minute: int
    created_at: datetime
    revoked_at: datetime | None = None
    site_url_template: str | None = None

    @property
    def publishable(self) -> bool:
        return self.kind == "publishable"


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def check_key_fields(
    name: str,
    origins: tuple[str, ...],
    rate_per_minute: int,
    kind: str = "secret",
    site_url_template: str | None = None,
) -> None:
    """Raise ValueError naming the first field that is wrong."""
    if not _NAME.match(name) or len(name) > 100:
        raise ValueError(f"name {name!r} must be lowercase letters, digits, '.' and '-'")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} must be one of {', '.join(KINDS)}")
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ValueError(f"origin {origin!r} must be scheme://host[:port], no path")
    if kind == "publishable" and not origins:
        raise ValueError("a publishable key needs the origins of the site that may use it")
    if kind == "secret" and origins:
        raise ValueError(
            "a secret key is for servers and has no origins; browsers use a publishable key"
        )
    if rate_per_minute < 1:
        raise ValueError("rate per minute must be at least 1")
    if site_url_template is not None:
        check_site_url_template(site_url_template)


def check_site_url_template(template: str) -> None:
    """A site URL template is an http(s) URL with only `{collection}`, `{slug}`, `{locale}`."""
    if not re.match(r"^https?://[^\s]+$", template) or len(template) > 500:
        raise ValueError(f"site URL template {template!r} must be an http(s) URL")
    unknown = set(_TEMPLATE_FIELDS.findall(template)) - TEMPLATE_FIELDS
    if unknown:
        raise ValueError(
            f"site URL template names {', '.join(sorted(unknown))}; "
            f"only {{collection}}, {{slug}} and {{locale}} are filled in"
        )
    if "{slug}" not in template:
        raise ValueError("site URL template must name {slug}")


def site_url(template: str, *, collection: str, slug: str, locale: str) -> str:
    """A document's page on the consumer's site."""
    return (
        template.replace("{collection}", collection)
        .replace("{slug}", slug)
        .replace("{locale}", locale)
    )


_COLUMNS = (
    "id, name, kind, allowed_origins, rate_per_minute, created_at, revoked_at, site_url_template"
)


async def create_api_key(
    conn: Connection,
    *,
    name: str,
    origins: tuple[str, ...],
    rate_per_minute: int,
    kind: Kind = "secret",
    site_url_template: str | None = None,
) -> tuple[ApiKey, str]:
    """Issue a key in the consumer's free slot of its kind; the plaintext is returned once and
    never stored. Raises TooManyKeys when both slots hold an active key."""
    check_key_fields(name, origins, rate_per_minute, kind, site_url_template)
    key = PREFIXES[kind] + secrets.token_urlsafe(32)
    taken = await conn.fetch(
        f"""SELECT slot FROM {SCHEMA}.api_keys
            WHERE name = $1 AND kind = $2 AND revoked_at IS NULL""",
        name,
        kind,
    )
    free = sorted({1, 2} - {r["slot"] for r in taken})
    if not free:
        raise TooManyKeys(
            f"{name!r} holds {ACTIVE_PER_KIND} active {kind} keys; revoke the older one first"
        )
    # Two issues racing for the last slot: the unique index refuses the second.
    row = await conn.fetchrow(
        f"""INSERT INTO {SCHEMA}.api_keys
                (id, name, key_hash, allowed_origins, rate_per_minute, kind, slot,
                 site_url_template)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            RETURNING {_COLUMNS}""",
        uuid.uuid4(),
        name,
        hash_key(key),
        list(origins),
        rate_per_minute,
        kind,
        free[0],
        site_url_template,
    )
    if row is None:  # RETURNING always yields the inserted row
        raise RuntimeError("the API key was not stored")
    return _api_key(row), key


async def list_api_keys(conn: Connection) -> list[ApiKey]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM {SCHEMA}.api_keys ORDER BY name, created_at")
    return [_api_key(r) for r in rows]


async def revoke_api_key(
    conn: Connection, name: str, *, kind: Kind | None = None, key_id: uuid.UUID | None = None
) -> int:
    """Revoke the consumer's active keys (of one kind, or the one key `key_id`); returns how
    many were revoked."""
    status = await conn.execute(
        f"""UPDATE {SCHEMA}.api_keys SET revoked_at = now()
            WHERE name = $1 AND revoked_at IS NULL
              AND ($2::text IS NULL OR kind = $2) AND ($3::uuid IS NULL OR id = $3)""",
        name,
        kind,
        key_id,
    )
    return int(status.split()[-1])


async def revoke_key(conn: Connection, key_id: uuid.UUID) -> bool:
    """Revoke one key by its id, whoever's it is; False when unknown or revoked before."""
    status = await conn.execute(
        f"UPDATE {SCHEMA}.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        key_id,
    )
    return status == "UPDATE 1"


async def active_keys(conn: Connection | Pool) -> dict[bytes, ApiKey]:
    rows = await conn.fetch(
        f"SELECT key_hash, {_COLUMNS} FROM {SCHEMA}.api_keys WHERE revoked_at IS NULL"
    )
    return {bytes(r["key_hash"]): _api_key(r) for r in rows}


def _api_key(row: asyncpg.Record) -> ApiKey:
    fields = dict(row.items())
    fields.pop("key_hash", None)
    return msgspec.convert(fields, ApiKey)


class KeyDirectory:
    """The active keys of every consumer, as of at most `max_age` seconds ago."""

    # Keys seen in requests, by their text, so a request costs a dict lookup rather than a
    # hash; bounded, since unknown keys (guesses) land here too until the next refresh.
    MAX_SEEN = 10_000

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._keys: dict[bytes, ApiKey] = {}
        self._seen: dict[bytes, ApiKey | None] = {}
        self._origins: frozenset[str] = frozenset()
        self._loaded_at = -float("inf")
        self._lock = asyncio.Lock()

    async def find(self, pool: Pool, key: bytes) -> ApiKey | None:
        """The key sent as `key` (the header's raw value), refreshing a stale snapshot first."""
        if not self.fresh(time.monotonic()):
            await self._refresh(pool)
        return self.known(key)

    def fresh(self, now: float) -> bool:
        """Whether the snapshot is recent enough for `known`; `now` in monotonic seconds."""
        return now - self._loaded_at < self.max_age

    def known(self, key: bytes) -> ApiKey | None:
        """The key as of the last snapshot: a caller that holds a fresh snapshot skips the
        coroutine of `find`, which is a measurable share of a cached read. Remembered by the
        header's raw value, so a known key is not even decoded."""
        try:
            return self._seen[key]
        except KeyError:
            found = self._keys.get(hash_key(key.decode("latin-1").strip()))
            if len(self._seen) < self.MAX_SEEN:
                self._seen[key] = found
            return found

    async def origin_known(self, pool: Pool, origin: str) -> bool:
        """Whether any active key allows `origin` (only publishable keys have origins): what a
        CORS preflight, which carries no key, can be answered by."""
        if time.monotonic() - self._loaded_at >= self.max_age:
            await self._refresh(pool)
        return origin in self._origins

    async def _refresh(self, pool: Pool) -> None:
        async with self._lock:
            # Another request may have refreshed while this one waited for the lock.
            if time.monotonic() - self._loaded_at < self.max_age:
                return
            keys = await active_keys(pool)
            self._keys = keys
            self._seen = {}
            self._origins = frozenset(o for k in keys.values() for o in k.allowed_origins)
            self._loaded_at = time.monotonic()
