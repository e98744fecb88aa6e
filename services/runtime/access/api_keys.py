"""API keys of third-party sites and apps (consumers): stored as SHA-256 hashes in the identity
schema beside staff tokens, each with the browser origins allowed to use it and a rate limit.

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

import asyncpg
import msgspec

from services.runtime.access.staff import SCHEMA
from services.runtime.core.db import Connection, Pool

KEY_PREFIX = "cbk_"
_NAME = re.compile(r"^[a-z0-9]+([.-][a-z0-9]+)*$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    allowed_origins: tuple[str, ...]
    rate_per_minute: int
    created_at: datetime
    revoked_at: datetime | None = None


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def check_key_fields(name: str, origins: tuple[str, ...], rate_per_minute: int) -> None:
    """Raise ValueError naming the first field that is wrong."""
    if not _NAME.match(name) or len(name) > 100:
        raise ValueError(f"name {name!r} must be lowercase letters, digits, '.' and '-'")
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ValueError(f"origin {origin!r} must be scheme://host[:port], no path")
    if rate_per_minute < 1:
        raise ValueError("rate per minute must be at least 1")


async def create_api_key(
    conn: Connection, *, name: str, origins: tuple[str, ...], rate_per_minute: int
) -> tuple[ApiKey, str]:
    """Issue a key; the plaintext is returned once and never stored."""
    check_key_fields(name, origins, rate_per_minute)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        f"""INSERT INTO {SCHEMA}.api_keys (id, name, key_hash, allowed_origins, rate_per_minute)
            VALUES ($1, $2, $3, $4, $5)
            RETURNING id, name, allowed_origins, rate_per_minute, created_at, revoked_at""",
        uuid.uuid4(),
        name,
        hash_key(key),
        list(origins),
        rate_per_minute,
    )
    if row is None:  # RETURNING always yields the inserted row
        raise RuntimeError("the API key was not stored")
    return _api_key(row), key


async def list_api_keys(conn: Connection) -> list[ApiKey]:
    rows = await conn.fetch(
        f"""SELECT id, name, allowed_origins, rate_per_minute, created_at, revoked_at
            FROM {SCHEMA}.api_keys ORDER BY name"""
    )
    return [_api_key(r) for r in rows]


async def revoke_api_key(conn: Connection, name: str) -> bool:
    status = await conn.execute(
        f"UPDATE {SCHEMA}.api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
        name,
    )
    return status == "UPDATE 1"


async def active_keys(conn: Connection | Pool) -> dict[bytes, ApiKey]:
    rows = await conn.fetch(
        f"""SELECT key_hash, id, name, allowed_origins, rate_per_minute, created_at, revoked_at
            FROM {SCHEMA}.api_keys WHERE revoked_at IS NULL"""
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
        """Whether any active key allows `origin`: what a CORS preflight, which carries no key,
        can be answered by."""
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
