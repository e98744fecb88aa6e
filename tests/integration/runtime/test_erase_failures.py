"""A relay whose NATS user may not delete from a stream (issue 15, finding 7): deleting the
copies keeps failing, yet later events are published at once, and every failure is an
operator alert: an error log, a metric, and the error on the waiting rows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from structlog.testing import capture_logs

from contracts.inquiries import PersonalDataErased
from contracts.registry import INQUIRY_ERASED, STREAMS
from deploy.nats_auth import ADMIN
from services.runtime.core.db import Pool, transaction
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.outbox import Outbox, Relay
from tests.support import eventually

if TYPE_CHECKING:
    from tests.support.nats_auth import Server

pytest_plugins = ["tests.support.nats_accounts"]

SCHEMA = "inquiries"
# Well within the time a refused delete takes to fail (the JetStream request's timeout).
PROMPTLY = 2.0


@pytest.fixture
async def admin(accounts_nats: Server, accounts_namespace: str) -> AsyncIterator[Bus]:
    bus = await Bus.connect(accounts_nats.url(ADMIN), name="admin", namespace=accounts_namespace)
    await bus.provision(STREAMS)
    yield bus
    await bus.close()


async def published(admin: Bus) -> int:
    info = await admin.js.stream_info(admin.stream("INQUIRIES"))
    return int(info.state.messages)


async def test_a_refused_delete_never_holds_up_publishing_and_raises_an_alert(
    pool: Pool, admin: Bus, accounts_nats: Server, accounts_namespace: str
) -> None:
    # A copy in a stream inquiries does not own: its user has no delete grant there.
    await admin.js.publish(admin.subject("logistics.booking.created.v1"), b"{}")
    async with pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO stream_copies (stream, seq, erasure_key, erase_requested_at)
               VALUES ($1, 1, 'someone', now())""",
            admin.stream("LOGISTICS"),
        )
    bus = await Bus.connect(
        accounts_nats.url("inquiries"), name="inquiries", namespace=accounts_namespace
    )
    outbox = Outbox(source="/carebridge/inquiries", schema=SCHEMA)
    alerts: list[None] = []
    relay = Relay(
        pool,
        bus,
        schema=SCHEMA,
        batch_size=10,
        poll_interval=0.1,
        on_erase_failed=lambda: alerts.append(None),
    )
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(relay.run(stop))
        try:
            for n in range(1, 4):
                async with transaction(pool) as conn:
                    await outbox.emit(
                        conn,
                        INQUIRY_ERASED.subject(),
                        PersonalDataErased(inquiry_id=f"i{n}", erased_at=datetime.now(UTC)),
                    )
                began = time.monotonic()

                async def out(n: int = n) -> bool:
                    return await published(admin) == n

                await eventually(out, timeout=PROMPTLY)
                assert time.monotonic() - began < PROMPTLY

            async def alerted() -> bool:
                return bool(alerts)

            await eventually(alerted, timeout=20)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await bus.close()

    [failed] = [e for e in logs if e["event"] == "stream copies not erased"][:1]
    assert failed["log_level"] == "error"
    assert admin.stream("LOGISTICS") in failed["error"]
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM stream_copies")
    assert row is not None
    assert row["erase_failures"] >= 1
    assert admin.stream("LOGISTICS") in row["last_erase_error"]
    # The copy still waits to be deleted once the grant is fixed.
    assert row["erase_requested_at"] is not None
