"""Sites' webhooks: a site registers a URL for `content.published` and `content.unpublished`,
and is sent each such event, with the body it has on NATS, as a Standard Webhook signed with
the secret its registration answered (once). Queued in the transaction that publishes, sent by
the runtime's webhook sender."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from contracts.content import ContentPublished, ContentUnpublished
from services.content.store import site_webhooks as store
from services.content.store.site_webhooks import SiteWebhookRow
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import Conflict, Invalid, NotFound
from services.runtime.messaging import webhooks
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

PUBLISHED, UNPUBLISHED = "content.published", "content.unpublished"
EVENTS = (PUBLISHED, UNPUBLISHED)
# A purge later than this helps no CDN: max-age has long run out.
DELIVER_WITHIN = timedelta(hours=1)


class Registered(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    events: tuple[str, ...]
    # Only in the answer that created the webhook: keep it.
    signing_secret: str | None = None


def _aad(consumer: str) -> bytes:
    return f"site_webhooks:{consumer}:signing_secret".encode()


async def register(
    pool: Pool,
    keys: KeyRing | None,
    consumer: str,
    *,
    url: str,
    events: tuple[str, ...],
    allow_private: bool,
    now: datetime,
) -> tuple[bool, Registered]:
    """Create or replace the site's webhook; True when created (the secret is answered then)."""
    if keys is None:
        raise Conflict("site webhooks are not enabled here (CONTENT_ENCRYPTION_KEYS is unset)")
    try:
        webhooks.check_url(url, allow_private=allow_private)
    except webhooks.UrlRefused as exc:
        raise Invalid.single("url", str(exc)) from None
    secret = webhooks.new_secret()
    async with transaction(pool) as conn:
        created = await store.insert_or_replace(
            conn,
            consumer=consumer,
            url=url,
            events=tuple(sorted(set(events))),
            sealed_secret=to_column(keys.encrypt(secret.encode(), aad=_aad(consumer))),
            now=now,
        )
    return created, Registered(
        url=url, events=tuple(sorted(set(events))), signing_secret=secret if created else None
    )


async def find(pool: Pool, consumer: str) -> Registered:
    async with pool.acquire() as conn:
        row = await store.find(conn, consumer)
    if row is None:
        raise NotFound("this API key has no webhook")
    return Registered(url=row.url, events=row.events)


async def remove(pool: Pool, consumer: str) -> None:
    async with transaction(pool) as conn:
        if not await store.delete(conn, consumer):
            raise NotFound("this API key has no webhook")


async def queue(
    conn: Connection,
    event: ContentPublished | ContentUnpublished,
    event_id: str,
    *,
    now: datetime,
) -> None:
    """In the publishing transaction: the event for every site that asked for it."""
    name = PUBLISHED if isinstance(event, ContentPublished) else UNPUBLISHED
    payload = msgspec.json.encode(event)
    for consumer in await store.subscribed(conn, name):
        await webhooks.enqueue(
            conn,
            endpoint=consumer,
            message_id=event_id,
            payload=payload,
            deliver_by=now + DELIVER_WITHIN,
            now=now,
        )


def endpoints(keys: KeyRing | None) -> webhooks.Endpoints:
    async def find_target(conn: Connection, consumer: str) -> webhooks.Target | None:
        row: SiteWebhookRow | None = await store.find(conn, consumer)
        if row is None or keys is None:
            return None
        secret = keys.decrypt(from_column(row.signing_secret), aad=_aad(consumer)).decode()
        return webhooks.Target(url=row.url, secrets=(secret,))

    return find_target
