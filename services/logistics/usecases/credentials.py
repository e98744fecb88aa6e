"""The credentials of a partner's webhook channel: a signing secret (`whsec_…`) for what
Carebridge sends, and a token for the reply API. Shown once when issued; the secret is kept
sealed (it must be read to sign), the token as a hash. A rotation issues a new pair and lets the
old one work until the overlap ends, so a partner switches without losing a message."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

import msgspec

from services.logistics.store import credentials, partners
from services.logistics.usecases.collaborators import BookingCollaborators
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import Conflict, NotFound
from services.runtime.messaging import webhooks
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

TOKEN_PREFIX = "cbw_"  # noqa: S105 - marks a partner token when it leaks, not a secret


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    """Shown once: keep them in the partner's own secret store."""

    signing_secret: str
    token: str
    # Until when the credentials they replace still work (null: none replaced).
    previous_valid_until: datetime | None = None


def hash_token(token: str) -> bytes:
    # A random 256-bit token needs no slow hash: nothing to guess from its SHA-256.
    return hashlib.sha256(token.encode()).digest()


def _aad(credential_id: uuid.UUID) -> bytes:
    return f"partner_credentials:{credential_id}:signing_secret".encode()


async def issue(conn: Connection, keys: KeyRing, partner_id: str, *, now: datetime) -> Credentials:
    """New credentials for the partner, in the caller's transaction."""
    credential_id = uuid.uuid4()
    secret, token = webhooks.new_secret(), TOKEN_PREFIX + secrets.token_urlsafe(32)
    await credentials.insert_credentials(
        conn,
        id=credential_id,
        partner_id=partner_id,
        token_hash=hash_token(token),
        sealed_secret=to_column(keys.encrypt(secret.encode(), aad=_aad(credential_id))),
        now=now,
    )
    return Credentials(signing_secret=secret, token=token)


async def has_valid(conn: Connection, partner_id: str, *, now: datetime) -> bool:
    return bool(await credentials.valid_secrets(conn, partner_id, now))


async def rotate(c: BookingCollaborators, partner_id: str, *, now: datetime) -> Credentials:
    """New credentials; the current ones work until the overlap ends."""
    until = now + c.webhooks.credential_overlap
    async with transaction(c.pool) as conn:
        partner = await partners.get_partner(conn, partner_id)
        if partner is None:
            raise NotFound(f"partner {partner_id} does not exist")
        if await partners.webhook_url(conn, partner_id) is None:
            raise Conflict(
                f"partner {partner_id} uses NATS; register a webhook channel to get credentials"
            )
        await credentials.expire_current(conn, partner_id, until)
        issued = await issue(conn, c.keys, partner_id, now=now)
    return msgspec.structs.replace(issued, previous_valid_until=until)


async def signing_secrets(
    conn: Connection, keys: KeyRing, partner_id: str, *, now: datetime
) -> tuple[str, ...]:
    """The secrets to sign with, newest first: during an overlap, both."""
    return tuple(
        keys.decrypt(from_column(sealed), aad=_aad(credential_id)).decode()
        for credential_id, sealed in await credentials.valid_secrets(conn, partner_id, now)
    )


async def partner_of_token(pool: Pool, token: str, *, now: datetime) -> str | None:
    """The partner a reply-API token belongs to; None for an unknown or expired one."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    async with pool.acquire() as conn:
        return await credentials.partner_of_token(conn, hash_token(token), now)
