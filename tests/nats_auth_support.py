"""A NATS server started with the accounts config deploy/nats_auth.py renders; as a pytest
plugin (`pytest_plugins = ["tests.nats_auth_support"]`), a session's server of that kind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.embedded import EmbeddedNats, free_port, start_nats
from deploy.nats_auth import ADMIN, SERVICE_SUBJECTS, issue_passwords, render_config, user_url
from services.runtime.messaging.bus import Bus


@dataclass
class Server:
    nats: EmbeddedNats
    passwords: dict[str, str]

    def url(self, user: str) -> str:
        return user_url(self.nats.url, user, self.passwords[user])


@contextmanager
def authorized_nats(root: Path, partners: Iterable[str], namespace: str) -> Iterator[Server]:
    """The services, the admin and `partners` as users, each with a fresh password."""
    partner_ids = tuple(partners)
    services = tuple(SERVICE_SUBJECTS)
    passwords = issue_passwords({}, (ADMIN, *services, *partner_ids))
    config = root / "auth.conf"
    config.write_text(
        render_config(
            passwords=passwords, services=services, partners=partner_ids, namespace=namespace
        )
    )
    server = start_nats(root / "data", free_port(), config=config)
    try:
        yield Server(server, passwords)
    finally:
        server.stop()


# The namespace of the session's accounts server: a config names its streams, so the tests that
# run on it share one namespace and start from emptied streams (`accounts_namespace`).
ACCOUNTS_NAMESPACE = "acct"


@pytest.fixture(scope="session")
def accounts_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second nats-server for the session, with the accounts config `make run` renders: each
    service may do only what its user may there (erasure's deletes included)."""
    with authorized_nats(tmp_path_factory.mktemp("nats-accounts"), (), ACCOUNTS_NAMESPACE) as s:
        yield s


@pytest.fixture
async def accounts_namespace(accounts_nats: Server) -> AsyncIterator[str]:
    """The accounts server's namespace, its streams deleted after the test."""
    yield ACCOUNTS_NAMESPACE
    admin = await Bus.connect(accounts_nats.url(ADMIN), name="test-cleanup")
    try:
        for info in await admin.js.streams_info():
            await admin.js.delete_stream(info.config.name or "")
    finally:
        await admin.close()
