"""The inquiries schema of this test's own database, the keys and the outbox a use case takes,
and one condition the catalogue knows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.inquiries.app import DEFINITION
from services.runtime.core.db import Pool, create_pool
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing

CONDITION = "mitral-valve-repair"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, schema=DEFINITION.schema, min_size=1, max_size=2)
    await pool.execute(
        "INSERT INTO known_conditions (slug, revision, locales) VALUES ($1, 1, '{en}')",
        CONDITION,
    )
    yield pool
    await pool.close()


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing.from_setting(KeyRing.generate_setting("t1"))


@pytest.fixture
def outbox() -> Outbox:
    return Outbox(source=f"/carebridge/{DEFINITION.name}", schema=DEFINITION.schema)
