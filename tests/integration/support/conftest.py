"""A running support service beside inquiries (which checks patients' tokens) and notifications
(which mails escalations to a real SMTP server), on real PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from services.runtime.access import staff
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.privacy.crypto import KeyRing
from services.support.app import SupportSettings
from services.support.app import create_app as create_support
from tests.integration.inquiries.casefile import (  # noqa: F401 - fixtures, requested by name
    as_site,
    casedb,
    site_key,
)
from tests.integration.notifications.conftest import (  # noqa: F401 - fixtures, by name
    Client,
    inquiries,
    mailbox,
    ndb,
    notifications,
    start,
)

StartSupport = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture
def start_support(settings: ServiceSettings) -> StartSupport:
    """Start a support service; keyword arguments override its settings. Every start shares
    one key ring, as replicas and restarts do."""
    keys = KeyRing.generate_setting("s1")

    def started(**overrides: str) -> AbstractAsyncContextManager[Client]:
        env = (
            as_environ(settings)
            | {
                "SUPPORT_ENCRYPTION_KEYS": keys,
                "SUPPORT_ESCALATION_INTERVAL": "0.2",
                "SUPPORT_FIGURES_INTERVAL": "0.5",
                "SUPPORT_CLINIC_PHONE": "+49 69 1234 5678",
            }
            | overrides
        )
        app = create_support(load_settings(SupportSettings, environ=env))
        return AsyncTestClient(app, raise_server_exceptions=False)

    return started


@pytest.fixture
async def support(start_support: StartSupport) -> AsyncIterator[Client]:
    async with start_support() as client:
        yield client


@pytest.fixture
async def sdb(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "support"})
    yield conn
    await conn.close()


@pytest.fixture
async def staff_headers(
    database_url: str,
    support: Client,  # its start made the staff schema
) -> Callable[..., dict[str, str]]:
    """Bearer headers of one token per role, made once."""
    conn = await asyncpg.connect(database_url)
    try:
        issued = {}
        for role, person in (
            ("coordinator", "Chris Coordinator"),
            ("support_agent", "Dana Agent"),
            ("editor", "Eddie Editor"),
        ):
            _, issued[role] = await staff.create_token(conn, person=person, roles=(role,))
    finally:
        await conn.close()

    def headers(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issued[role]}"}

    return headers
