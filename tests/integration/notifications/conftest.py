"""A running notifications service beside a running inquiries service (which answers its
contact requests), on real PostgreSQL and NATS, sending to a real SMTP server (aiosmtpd) on a
free port whose answers a test can script."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from email.message import EmailMessage
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar
from litestar.testing import AsyncTestClient

from deploy.embedded import free_port
from services.inquiries.app import InquiriesSettings
from services.inquiries.app import create_app as create_inquiries
from services.notifications.app import NotificationsSettings
from services.notifications.app import create_app as create_notifications
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.privacy.crypto import KeyRing
from tests.integration.inquiries.casefile import (  # noqa: F401 - fixtures, requested by name
    as_site,
    casedb,
    site_key,
)

Client = AsyncTestClient[Litestar]
ONCALL = "oncall@carebridge.example"


class Mailbox:
    """The SMTP server's handler: keeps what it accepts; refuses as the test scripts it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.accepted: list[EmailMessage] = []
        # Answers to the next DATA commands, before accepting again ("451 …", "550 …").
        self.data_answers: list[str] = []
        # Recipients refused at RCPT, with the answer.
        self.refused: dict[str, str] = {}
        self.refusals = 0
        # The envelope sender (return path) of each accepted message, in order.
        self.return_paths: list[str] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if address in self.refused:
            with self._lock:
                self.refusals += 1
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            if self.data_answers:
                self.refusals += 1
                return self.data_answers.pop(0)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.accepted.append(message)
            self.return_paths.append(envelope.mail_from)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.accepted if m["To"] == address]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
async def inquiries(
    settings: ServiceSettings,
    site_key: str,  # noqa: F811 - the fixture imported above
    casedb: asyncpg.Connection,  # noqa: F811 - knows the condition the submission names
) -> AsyncIterator[Client]:
    env = as_environ(settings) | {"INQUIRIES_ENCRYPTION_KEYS": KeyRing.generate_setting("t1")}
    app = create_inquiries(load_settings(InquiriesSettings, environ=env))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        yield as_site(client, site_key)


Start = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture
def start(settings: ServiceSettings, mailbox: Mailbox) -> Start:
    """Start a notifications service; keyword arguments override its settings."""
    keys = KeyRing.generate_setting("n1")

    def started(**overrides: str) -> AbstractAsyncContextManager[Client]:
        env = (
            as_environ(settings)
            | {
                "NOTIFICATIONS_ENCRYPTION_KEYS": keys,
                "NOTIFICATIONS_ONCALL_EMAIL": ONCALL,
                "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
                "NOTIFICATIONS_SMTP_PORT": str(mailbox.port),  # type: ignore[attr-defined]
                "NOTIFICATIONS_SMTP_SECURITY": "none",
                "NOTIFICATIONS_SMTP_TIMEOUT": "5",
                "NOTIFICATIONS_LEASE": "10",
                "NOTIFICATIONS_SEND_INTERVAL": "0.1",
                "NOTIFICATIONS_RETRY_BASE": "0.2",
                "NOTIFICATIONS_RETRY_CAP": "1",
                "NOTIFICATIONS_REPLY_TO": "care@carebridge.example",
            }
            | overrides
        )
        app = create_notifications(load_settings(NotificationsSettings, environ=env))
        return AsyncTestClient(app, raise_server_exceptions=False)

    return started


@pytest.fixture
async def notifications(start: Start) -> AsyncIterator[Client]:
    async with start() as client:
        yield client


@pytest.fixture
async def ndb(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "notifications"})
    yield conn
    await conn.close()
