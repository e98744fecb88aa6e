"""Sign-in (a staff token exchanged for a session, roles learned from the APIs), finding the
live session of a request, changing its language, sign-out."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import msgspec

from services.console.domain import roles
from services.console.domain.sessions import Session, Timeouts, is_live
from services.console.store import sessions as store
from services.console.usecases.apis import Apis, SignInNeeded
from services.runtime.core.db import Pool
from services.runtime.privacy.crypto import KeyRing, from_column, to_column


class Opened(msgspec.Struct, frozen=True, kw_only=True):
    """A live session and the person's token, unsealed for this request only."""

    session: Session
    token: str


def hash_id(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


class Sessions:
    def __init__(self, pool: Pool, keys: KeyRing, apis: Apis, timeouts: Timeouts) -> None:
        self.pool = pool
        self.keys = keys
        self.apis = apis
        self.timeouts = timeouts

    async def sign_in(self, token: str, locale: str, now: datetime) -> str | None:
        """The new session's id (for the cookie), or None when the APIs refuse the token."""
        token = token.strip()
        if not token:
            return None
        held = await self.apis.roles_of(token)
        if held is None:
            return None
        session_id = secrets.token_urlsafe(32)
        session = Session(
            id_hash=hash_id(session_id),
            roles=roles.with_implied(held),
            locale=locale,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
        sealed = self.keys.encrypt(token.encode(), aad=session.id_hash)
        # Sessions idle past the timeout can never open again: each sign-in clears them away.
        await self.sweep(now)
        await store.insert_session(self.pool, session, to_column(sealed))
        return session_id

    async def open(self, session_id: str | None, now: datetime) -> Opened:
        """The live session of `session_id`, its idle clock restarted; SignInNeeded otherwise
        (an expired session is deleted on the way)."""
        if not session_id:
            raise SignInNeeded
        id_hash = hash_id(session_id)
        found = await store.load_session(self.pool, id_hash)
        if found is None:
            raise SignInNeeded
        session, sealed = found
        if not is_live(session, self.timeouts, now):
            await store.delete_session(self.pool, id_hash)
            raise SignInNeeded
        await store.touch_session(self.pool, id_hash, now)
        token = self.keys.decrypt(from_column(sealed), aad=id_hash).decode()
        return Opened(session=msgspec.structs.replace(session, last_seen_at=now), token=token)

    async def choose_language(self, session: Session, locale: str) -> None:
        await store.set_locale(self.pool, session.id_hash, locale)

    async def sign_out(self, session: Session) -> None:
        await store.delete_session(self.pool, session.id_hash)

    async def sweep(self, now: datetime) -> int:
        """Delete sessions idle past the idle timeout (they can never open again)."""
        return await store.delete_sessions_seen_before(self.pool, now - self.timeouts.idle)
