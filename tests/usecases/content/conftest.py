"""Content's use cases called directly on a real PostgreSQL: the migrated content schema of this
test's own database, the outbox they write to, and no app, no HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.runtime.core.db import Pool, create_pool
from services.runtime.messaging.outbox import Outbox


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, schema="content", min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox(source="/carebridge/content", schema="content")
