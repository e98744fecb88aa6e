"""A booking's progress arriving while the case is erased: both wait their turn on the inquiry,
in the same order, so neither is aborted as a deadlock (seen in a run: the consumer's
transaction was, and its message waited for redelivery)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from contracts.logistics import BookingStatusChanged
from services.inquiries.store import privacy
from services.inquiries.usecases import casework
from services.runtime.core.db import Pool
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing
from tests.usecases.inquiries.submissions import submit

pytestmark = pytest.mark.timeout(30)

AT = datetime(2026, 12, 6, 9, tzinfo=UTC)


def progress(inquiry_id: uuid.UUID, booking_id: str, version: int) -> BookingStatusChanged:
    return BookingStatusChanged(
        booking_id=booking_id,
        inquiry_id=str(inquiry_id),
        kind="transfer",
        from_status="confirmed",
        to_status="in_progress",
        version=version,
        partner_name="Rhein Shuttle GmbH",
        progress="driver_assigned" if version == 2 else "en_route",
        changed_at=AT,
    )


async def waiting_on_a_lock(watcher: asyncpg.Connection, pid: int) -> bool:
    return bool(
        await watcher.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
        )
    )


async def test_progress_recorded_during_an_erasure_waits_for_it_instead_of_deadlocking(
    pool: Pool, outbox: Outbox, keys: KeyRing, database_url: str
) -> None:
    inquiry_id = await submit(pool, outbox, keys)
    booking_id = str(uuid.uuid4())
    async with pool.acquire() as conn, conn.transaction():
        await casework.record_booking_progress(conn, keys, progress(inquiry_id, booking_id, 2))
    eraser: asyncpg.Connection = await pool.acquire()
    recorder: asyncpg.Connection = await pool.acquire()
    watcher = await asyncpg.connect(database_url)  # outside the pool of two
    try:
        # The erasure holds the inquiry first, as erase_locked does.
        erasing = eraser.transaction()
        await erasing.start()
        assert await privacy.lock_for_erasure(eraser, inquiry_id) is not None

        async def record() -> None:
            async with recorder.transaction():
                event = progress(inquiry_id, booking_id, 3)
                await casework.record_booking_progress(recorder, keys, event)

        recording = asyncio.create_task(record())
        pid = recorder.get_server_pid()
        for _ in range(200):
            if await waiting_on_a_lock(watcher, pid) or recording.done():
                break
            await asyncio.sleep(0.01)
        assert await waiting_on_a_lock(watcher, pid), "the progress should wait for the erasure"
        # Then the erasure wipes the booking's arrangement, the row the progress would write.
        for statement in privacy.PERSONAL_DATA_WIPES:
            await eraser.execute(statement, inquiry_id)
        await erasing.commit()
        await recording
    finally:
        await watcher.close()
        await pool.release(eraser)
        await pool.release(recorder)

    row = await pool.fetchrow(
        "SELECT version, progress FROM booking_progress WHERE booking_id = $1", booking_id
    )
    assert (row["version"], row["progress"]) == (3, "en_route")
