"""Data a fresh stack needs to be usable at once. Each step is idempotent: a warm start keeps
what an earlier run created. Add a service's seed data by appending a step to SEED_STEPS."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg

from deploy.stack.console import Console
from services.content.app import DEFINITION as CONTENT
from services.content.usecases.seeding import seed_content
from services.runtime.access import api_keys, staff
from services.runtime.core.db import create_pool
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing


@dataclass
class SeedContext:
    database_url: str
    # Plaintext credentials from earlier runs (secrets.json); steps add to it what they issue.
    # The runner saves it back and publishes it in stack.json as "credentials".
    secrets: dict[str, Any] = field(default_factory=dict)
    # Origins of the example site this stack serves (SITE_PORT): its key must admit them.
    site_origins: tuple[str, ...] = ()


# A step does its work and returns one line of progress for the console.
SeedStep = Callable[[SeedContext], Awaitable[str]]


async def seed_staff_tokens(context: SeedContext) -> str:
    """One token per role for a person `local-<role>`. A token kept in secrets.json is reused
    while the database still accepts it; otherwise (secrets.json deleted, database reset) the
    person's old tokens are revoked and a new one is issued."""
    known: dict[str, str] = context.secrets.get("staff", {})
    tokens: dict[str, str] = {}
    conn = await asyncpg.connect(context.database_url)
    try:
        async with conn.transaction():
            for role in staff.ROLES:
                person = f"local-{role}"
                token = known.get(role)
                if token is None or not await _accepted(conn, token, person):
                    token = await _reissue(conn, person, cast(staff.Role, role))
                tokens[role] = token
    finally:
        await conn.close()
    issued = sum(1 for role, token in tokens.items() if known.get(role) != token)
    context.secrets["staff"] = tokens
    if issued:
        return f"seeded {issued} staff token{'s' if issued != 1 else ''}"
    return f"staff tokens unchanged ({len(tokens)})"


async def _accepted(conn: asyncpg.Connection[asyncpg.Record], token: str, person: str) -> bool:
    principal = await staff.find_principal(conn, token)
    return principal is not None and principal.person == person


async def _reissue(conn: asyncpg.Connection[asyncpg.Record], person: str, role: staff.Role) -> str:
    for old in await staff.list_tokens(conn):
        if old.person == person and old.revoked_at is None:
            await staff.revoke_token(conn, old.id)
    _, token = await staff.create_token(conn, person=person, roles=(role,))
    return token


async def seed_content_documents(context: SeedContext) -> str:
    """The medical content pages, published through the content service's own outbox: its
    relay announces them on `content.*` once the service runs. Unreviewed sample content: the
    local stack publishes it without a sign-off (CONTENT_REQUIRE_REVIEW=false there)."""
    pool = await create_pool(context.database_url, schema=CONTENT.schema, min_size=1, max_size=2)
    try:
        outbox = Outbox(source=f"/carebridge/{CONTENT.name}", schema=CONTENT.schema)
        report = await seed_content(pool, outbox, now=datetime.now(UTC), review_required=False)
    finally:
        await pool.close()
    if not report.created:
        return "content documents unchanged"
    line = f"seeded {report.created} content documents, published {report.published}"
    for slug, reason in report.refused.items():
        line += f"\n  kept as draft: {slug}: {reason}"
    return line


LOCAL_SITE = "local-site"
# A site developed on this machine: the usual dev-server origins may call from a browser.
LOCAL_SITE_ORIGINS = ("http://localhost:3000", "http://127.0.0.1:3000", "http://localhost:5173")
LOCAL_SITE_RATE = 600


async def seed_api_keys(context: SeedContext) -> str:
    """Two API keys for a local third-party site: its server's secret key as
    `credentials.api_keys.local-site`, and its pages' publishable key (bound to the local
    dev-server origins and the example site's) as `credentials.publishable_keys.local-site`.
    Each is kept while the database still accepts it, issued anew otherwise."""
    issued = 0
    conn = await asyncpg.connect(context.database_url)
    try:
        async with conn.transaction():
            active = await api_keys.active_keys(conn)
            kinds: tuple[tuple[str, api_keys.Kind, tuple[str, ...]], ...] = (
                ("api_keys", "secret", ()),
                ("publishable_keys", "publishable", local_site_origins(context)),
            )
            for section, kind, origins in kinds:
                known: dict[str, str] = context.secrets.get(section, {})
                key = known.get(LOCAL_SITE)
                found = None if key is None else active.get(api_keys.hash_key(key))
                # Reissued too when it no longer admits the example site's origin (SITE_PORT).
                if found is None or not set(origins) <= set(found.allowed_origins):
                    await api_keys.revoke_api_key(conn, LOCAL_SITE, kind=kind)
                    _, key = await api_keys.create_api_key(
                        conn,
                        name=LOCAL_SITE,
                        origins=origins,
                        rate_per_minute=LOCAL_SITE_RATE,
                        kind=kind,
                    )
                    issued += 1
                context.secrets[section] = {LOCAL_SITE: key}
    finally:
        await conn.close()
    if not issued:
        return "API keys unchanged"
    return f"seeded {issued} API key{'s' if issued != 1 else ''}"


def local_site_origins(context: SeedContext) -> tuple[str, ...]:
    """The usual dev-server origins and those of the example site this stack serves: what the
    publishable key admits."""
    return tuple(dict.fromkeys((*LOCAL_SITE_ORIGINS, *context.site_origins)))


SERVICE_ENV = "service_env"


async def seed_service_secrets(context: SeedContext) -> str:
    """Secrets the services need, made once and kept in secrets.json: the keys that encrypt
    patients' and travellers' data at rest, the key that signs preview links and the one that
    signs proof-of-work challenges. An environment variable of the same name wins, so a
    developer can pin their own."""
    env: dict[str, str] = context.secrets.setdefault(SERVICE_ENV, {})
    made = []
    if "INQUIRIES_ENCRYPTION_KEYS" not in env:
        env["INQUIRIES_ENCRYPTION_KEYS"] = KeyRing.generate_setting("local1")
        made.append("patient-data encryption key")
    if "LOGISTICS_ENCRYPTION_KEYS" not in env:
        env["LOGISTICS_ENCRYPTION_KEYS"] = KeyRing.generate_setting("local1")
        made.append("traveller-data encryption key")
    if "SUPPORT_ENCRYPTION_KEYS" not in env:
        env["SUPPORT_ENCRYPTION_KEYS"] = KeyRing.generate_setting("local1")
        made.append("support's encryption key")
    if "NOTIFICATIONS_ENCRYPTION_KEYS" not in env:
        env["NOTIFICATIONS_ENCRYPTION_KEYS"] = KeyRing.generate_setting("local1")
        made.append("notifications' encryption key")
    if "CONTENT_ENCRYPTION_KEYS" not in env:
        env["CONTENT_ENCRYPTION_KEYS"] = KeyRing.generate_setting("local1")
        made.append("content's key for sites' webhook secrets")
    if "CONSOLE_ENCRYPTION_KEYS" not in env:
        env["CONSOLE_ENCRYPTION_KEYS"] = KeyRing.generate_setting("local1")
        made.append("the console's key for staff sessions")
    if "PREVIEW_SECRET" not in env:
        env["PREVIEW_SECRET"] = secrets.token_urlsafe(32)
        made.append("preview signing key")
    if "ALTCHA_HMAC_KEY" not in env:
        env["ALTCHA_HMAC_KEY"] = secrets.token_urlsafe(32)
        made.append("proof-of-work signing key")
    return f"generated {', '.join(made)}" if made else "service secrets unchanged"


SEED_STEPS: tuple[SeedStep, ...] = (
    seed_service_secrets,
    seed_staff_tokens,
    seed_api_keys,
    seed_content_documents,
)


async def seed(
    context: SeedContext, console: Console, steps: tuple[SeedStep, ...] = SEED_STEPS
) -> None:
    for step in steps:
        console.say(await step(context))
