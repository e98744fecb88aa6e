"""A running inquiries service on real PostgreSQL and NATS, with its own encryption key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.inquiries.app import InquiriesSettings, create_app
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.privacy.crypto import KeyRing

# The casework tests' fixtures: the raw tables, a coordinator's token, a submitted inquiry.
from tests.integration.inquiries.casefile import (  # noqa: F401
    as_site,
    casedb,
    coordinator,
    lead,
    site_key,
    submitted,
)

# The services beside inquiries that hold a part of a case (its export asks each): support, and
# notifications sending to a real SMTP server.
from tests.integration.notifications.conftest import (  # noqa: F401
    mailbox,
    ndb,
    notifications,
    start,
)
from tests.integration.support.conftest import sdb, start_support, support  # noqa: F401


@pytest.fixture
def inquiries_settings(settings: ServiceSettings) -> InquiriesSettings:
    env = as_environ(settings)
    env["INQUIRIES_ENCRYPTION_KEYS"] = KeyRing.generate_setting("t1")
    env["OFFER_EXPIRY_INTERVAL"] = "0.2"
    return load_settings(InquiriesSettings, environ=env)


@pytest.fixture
async def client(
    inquiries_settings: InquiriesSettings,
    site_key: str,  # noqa: F811 - the fixture imported above, requested by name
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(create_app(inquiries_settings), raise_server_exceptions=False) as c:
        yield as_site(c, site_key)
