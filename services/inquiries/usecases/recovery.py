"""Token recovery: hear a request (rate-limited per inquiry, in the database so replicas agree),
then, apart from the answer, replace the token when the email is the one on file.

The answer never depends on the email: the door answers 202 once the request is heard, and the
matching runs after the answer is sent, so neither its content nor its timing says whether the
address matched. The new token is sealed for notifications (see `reissued_token`); only its
hash opens the case, and the old token stops working in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.inquiries.domain import recovery
from services.inquiries.domain.model import aad
from services.inquiries.store import cases
from services.inquiries.store import recovery as store
from services.inquiries.usecases.cases import personal_data, save
from services.inquiries.usecases.intake import hash_token, new_access_token
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing, from_column, to_column


async def hear_recovery(pool: Pool, inquiry_id: uuid.UUID, now: datetime) -> bool:
    """Record the request; False when the inquiry id had its share in the window. Counted for
    any id, existing or not, so the limit tells nothing about which exist."""
    async with transaction(pool) as conn:
        await store.lock_requests(conn, inquiry_id)
        await store.delete_requests_before(conn, now - recovery.RECOVERY_WINDOW)
        recent = await store.count_requests_since(conn, inquiry_id, now - recovery.RECOVERY_WINDOW)
        if not recovery.recovery_heard(recent):
            return False
        await store.insert_request(conn, inquiry_id, now)
    return True


async def recover_access(
    pool: Pool, outbox: Outbox, keys: KeyRing, inquiry_id: uuid.UUID, email: str, now: datetime
) -> None:
    """On a match, a fresh token replaces the old one and the reissue is announced; otherwise
    nothing changes."""
    async with transaction(pool) as conn:
        row = await cases.lock_case(conn, inquiry_id)
        if row is None or not recovery.email_matches(email, personal_data(keys, row)):
            return
        token = new_access_token()
        reissue_id = uuid.uuid4()
        sealed = keys.encrypt(token.encode(), aad=_token_aad(inquiry_id, reissue_id))
        await store.replace_token(
            conn,
            inquiry_id,
            token_hash=hash_token(token),
            sealed=to_column(sealed),
            reissue_id=reissue_id,
            now=now,
        )
        await save(conn, outbox, inquiry_id, recovery.reissue(inquiry_id, reissue_id, now))


async def reissued_token(
    conn: Connection, keys: KeyRing, inquiry_id: uuid.UUID, reissue_id: str, now: datetime
) -> str | None:
    """The new token for notifications' message, while it is the current reissue and fresh;
    a stale copy is forgotten on the way."""
    found = await store.find_reissued(conn, inquiry_id)
    if found is None or found.sealed is None or found.reissue_id is None:
        return None
    if not recovery.token_mail_fresh(found.reissued_at, now):
        await store.forget_reissued(conn, inquiry_id)
        return None
    if str(found.reissue_id) != reissue_id:
        return None  # an earlier reissue: its token no longer opens the case
    return keys.decrypt(
        from_column(found.sealed), aad=_token_aad(inquiry_id, found.reissue_id)
    ).decode()


def _token_aad(inquiry_id: uuid.UUID, reissue_id: uuid.UUID) -> bytes:
    return aad(inquiry_id, f"reissued_token:{reissue_id}")
