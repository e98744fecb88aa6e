"""Console sessions on real PostgreSQL: the token sealed at rest, a session opened by its id
only, expiry deleting the row, sign-out and the sweep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.console.app import HERE, SCHEMA
from services.console.domain.sessions import Session, Timeouts
from services.console.store import sessions as store
from services.console.usecases.apis import Apis, SignInNeeded
from services.console.usecases.sessions import Sessions, hash_id
from services.runtime.core.db import Pool, create_pool
from services.runtime.core.migrate import load_migrations, migrate
from services.runtime.privacy.crypto import KeyRing, to_column

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TOKEN = "cbs_the-persons-own-token"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    made = await create_pool(database_url, schema=SCHEMA, min_size=1, max_size=2)
    async with made.acquire() as conn:
        await migrate(conn, SCHEMA, load_migrations("console", HERE / "migrations"))
    yield made
    await made.close()


@pytest.fixture
async def sessions(pool: Pool) -> AsyncIterator[Sessions]:
    async with httpx.AsyncClient() as client:
        yield Sessions(
            pool,
            KeyRing.from_setting(KeyRing.generate_setting("t1")),
            Apis(client, {}),
            Timeouts(idle=timedelta(minutes=30), absolute=timedelta(hours=12)),
        )


async def started(sessions: Sessions, session_id: str, at: datetime) -> Session:
    """A session as sign-in leaves it (sign-in itself asks the APIs: the browser tests)."""
    session = Session(
        id_hash=hash_id(session_id),
        roles=("coordinator",),
        locale="de",
        csrf="csrf-token",
        created_at=at,
        last_seen_at=at,
    )
    sealed = sessions.keys.encrypt(TOKEN.encode(), aad=session.id_hash)
    await store.insert_session(sessions.pool, session, to_column(sealed))
    return session


@pytest.mark.timeout(30)
async def test_a_session_opens_by_its_id_with_the_token_sealed_at_rest(
    sessions: Sessions, pool: Pool
) -> None:
    await started(sessions, "the-id", NOW)
    opened = await sessions.open("the-id", NOW + timedelta(minutes=5))
    assert opened.token == TOKEN
    assert opened.session.locale == "de"
    raw = await pool.fetchval("SELECT sealed_token FROM sessions")
    assert TOKEN.encode() not in bytes(raw)
    # The row holds the id's hash, never the id the cookie carries.
    assert await pool.fetchval("SELECT count(*) FROM sessions WHERE id_hash = $1", b"the-id") == 0
    for wrong in ("another-id", "", None):
        with pytest.raises(SignInNeeded):
            await sessions.open(wrong, NOW)


@pytest.mark.timeout(30)
async def test_each_request_restarts_the_idle_clock_until_the_absolute_limit(
    sessions: Sessions, pool: Pool
) -> None:
    await started(sessions, "busy", NOW)
    for minutes in range(20, 12 * 60, 20):
        await sessions.open("busy", NOW + timedelta(minutes=minutes))
    with pytest.raises(SignInNeeded):
        await sessions.open("busy", NOW + timedelta(hours=12))
    assert await pool.fetchval("SELECT count(*) FROM sessions") == 0


@pytest.mark.timeout(30)
async def test_an_idle_session_is_deleted_and_signed_out_ones_are_gone(
    sessions: Sessions, pool: Pool
) -> None:
    await started(sessions, "idle", NOW)
    kept = await started(sessions, "kept", NOW + timedelta(minutes=25))
    assert await sessions.sweep(NOW + timedelta(minutes=31)) == 1
    with pytest.raises(SignInNeeded):
        await sessions.open("idle", NOW + timedelta(minutes=31))
    await sessions.sign_out(kept)
    with pytest.raises(SignInNeeded):
        await sessions.open("kept", NOW + timedelta(minutes=32))
    assert await pool.fetchval("SELECT count(*) FROM sessions") == 0
