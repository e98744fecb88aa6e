"""A pytest plugin (`pytest_plugins = ["tests.support.nats_accounts"]` in a test module): a second
nats-server for the session, with the accounts config `make run` renders, for the tests that
must run with the services' real grants (erasure's deletes above all)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from deploy.nats_auth import ADMIN
from services.runtime.messaging.bus import Bus
from tests.support.nats_auth import ACCOUNTS_PARTNERS, Server, authorized_nats

# The namespace of the session's accounts server: a config names its streams, so the tests that
# run on it share one namespace and start from emptied streams (`accounts_namespace`).
ACCOUNTS_NAMESPACE = "acct"


@pytest.fixture(scope="session")
def accounts_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second nats-server for the session, with the accounts config `make run` renders: each
    service may do only what its user may there (erasure's deletes included)."""
    root = tmp_path_factory.mktemp("nats-accounts")
    with authorized_nats(root, ACCOUNTS_PARTNERS, ACCOUNTS_NAMESPACE) as s:
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
