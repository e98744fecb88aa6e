"""Retention: the personal data of a case closed longer than the retention period is purged, as
an erasure would (same wipes, same PersonalDataErased event), leaving the anonymous record.

Runs inside every replica as a background loop and on demand as
`python -m services.inquiries.retention [--dry-run]`. Due cases are claimed with
FOR UPDATE SKIP LOCKED, so replicas and the command running at once never purge one twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from services.inquiries import erasure, privacy_store
from services.inquiries.domain import TERMINAL
from services.runtime.db import Pool, transaction
from services.runtime.outbox import Outbox
from services.runtime.pacing import wait_any
from services.runtime.service import BackgroundLoop
from services.runtime.state import Runtime

log = structlog.get_logger(__name__)

BATCH_SIZE = 100
CLOSED: list[str] = sorted(TERMINAL)


def cutoff(now: datetime, retention_days: int) -> datetime:
    """Cases closed before this moment are due."""
    return now - timedelta(days=retention_days)


async def due(
    pool: Pool, *, now: datetime, retention_days: int
) -> list[privacy_store.ClosedInquiry]:
    """What a purge would take now, taking nothing."""
    async with pool.acquire() as conn:
        return await privacy_store.list_closed_before(conn, CLOSED, cutoff(now, retention_days))


async def purge_due(
    pool: Pool,
    outbox: Outbox,
    *,
    now: datetime,
    retention_days: int,
    batch_size: int = BATCH_SIZE,
    on_purged: Callable[[privacy_store.ClosedInquiry], None] = lambda _: None,
) -> int:
    """Purge every due case, a batch per transaction; returns how many were purged."""
    total = 0
    while True:
        async with transaction(pool) as conn:
            batch = await privacy_store.claim_closed_before(
                conn, CLOSED, cutoff(now, retention_days), batch_size
            )
            for inquiry in batch:
                await erasure.erase_locked(conn, outbox, inquiry.id, reason="retention", now=now)
        for inquiry in batch:
            on_purged(inquiry)
        total += len(batch)
        if len(batch) < batch_size:
            return total


def retention_loop(retention_days: int, interval: float) -> BackgroundLoop:
    async def loop(runtime: Runtime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            purged = await purge_due(
                runtime.pool, runtime.outbox, now=datetime.now(UTC), retention_days=retention_days
            )
            if purged:
                log.info("retention purged personal data", inquiries=purged)
            await wait_any(stop, timeout=interval)

    return loop
