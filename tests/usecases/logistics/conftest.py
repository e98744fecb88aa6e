"""Logistics' use cases called directly on a real PostgreSQL (a database of the test's own, in
the service's schema): no app boot, no HTTP, no NATS. What they announce is read from the
outbox, where it waits for the relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from contracts.logistics import BookingDetails, booking_details_decoder
from services.logistics import domain, usecases
from services.runtime.core.db import Pool, create_pool
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing
from tests.logistics_samples import partner, transfer

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, schema="logistics", min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
def bookings(pool: Pool) -> usecases.BookingCollaborators:
    keys = KeyRing.from_setting(KeyRing.generate_setting("t1"))
    return usecases.BookingCollaborators(
        pool=pool,
        outbox=Outbox(source="/carebridge/logistics", schema="logistics", keys=keys),
        keys=keys,
        offer_timeout=timedelta(minutes=15),
    )


async def register(pool: Pool, partner_id: str, **changes: Any) -> domain.Partner:
    """A transfer partner at Frankfurt, as a coordinator registers it."""
    body = partner(partner_id, "transfer", **changes)
    registered = msgspec.convert(body, domain.Partner)
    await usecases.put_partner(pool, registered, now=NOW)
    return registered


def a_transfer(**changes: Any) -> BookingDetails:
    return booking_details_decoder.decode(
        msgspec.json.encode({"kind": "transfer", **transfer(**changes)})
    )


async def announced(pool: Pool) -> list[str]:
    """The subjects of the events waiting in the outbox, in order."""
    async with pool.acquire() as conn:
        return [r["subject"] for r in await conn.fetch("SELECT subject FROM outbox ORDER BY seq")]
