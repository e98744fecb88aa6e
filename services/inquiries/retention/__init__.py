"""Retention per data class: what the inquiries service keeps about a case, and for how long.

| class | what | purged |
| --- | --- | --- |
| `case_personal_data` | the patient's identity, contact and health data, offers, case records | INQUIRIES_RETENTION_DAYS after the case closed, as an erasure (PersonalDataErased: logistics and partners wipe their copies) |
| `case_free_text` | coordinators' notes and free-text reasons | INQUIRIES_FREE_TEXT_RETENTION_DAYS after the case closed |
| `billing_stubs` | the pseudonymous stub an erasure keeps for the books | INQUIRIES_BILLING_RETENTION_YEARS after the end of the year of erasure |

One job applies them all: a background loop in every replica whose schedule lives in
PostgreSQL (the next run is claimed by one replica, and a restart neither skips nor repeats a
run), and `python -m services.inquiries.retention [--dry-run]` on demand. Each run's report,
per class, is kept in `retention_runs`. Due cases are claimed with FOR UPDATE SKIP LOCKED, so
replicas and the command running at once never purge one twice."""  # noqa: E501 - a table

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
import structlog

from services.inquiries import billing_store, erasure, privacy_store
from services.inquiries.domain import TERMINAL
from services.inquiries.retention import store
from services.runtime.core.db import Pool, transaction
from services.runtime.core.pacing import wait_any
from services.runtime.privacy.crypto import KeyRing
from services.runtime.service.definition import Runtime
from services.runtime.service.factory import BackgroundLoop

log = structlog.get_logger(__name__)

BATCH_SIZE = 100
CLOSED: list[str] = sorted(TERMINAL)
JOB = "retention"
# However long the interval, a replica looks this often whether the shared run is due.
POLL_SECONDS = 60.0


class Periods(msgspec.Struct, frozen=True, kw_only=True):
    """How long each class of data is kept, as configured."""

    personal_data_days: int
    free_text_days: int
    billing_years: int


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """What one run purged, per data class: cases erased, cases whose free text was wiped,
    billing stubs deleted."""

    case_personal_data: int = 0
    case_free_text: int = 0
    billing_stubs: int = 0

    def counts(self) -> dict[str, int]:
        return msgspec.structs.asdict(self)


def cutoff(now: datetime, retention_days: int) -> datetime:
    """Cases closed before this moment are due."""
    return now - timedelta(days=retention_days)


async def due(
    pool: Pool, *, now: datetime, periods: Periods
) -> tuple[list[privacy_store.ClosedInquiry], Report]:
    """What a purge would take now, taking nothing: the cases to erase, and the count per class.
    Free text is counted before the erasures, so a case due for both counts in both."""
    async with pool.acquire() as conn:
        erasable = await privacy_store.list_closed_before(
            conn, CLOSED, cutoff(now, periods.personal_data_days)
        )
        free_text = await store.count_free_text_before(
            conn, CLOSED, cutoff(now, periods.free_text_days)
        )
        stubs = await billing_store.count_stubs_past(conn, now.date())
    return erasable, Report(
        case_personal_data=len(erasable), case_free_text=free_text, billing_stubs=stubs
    )


async def purge_due(
    pool: Pool,
    erasing: erasure.Erasing,
    *,
    now: datetime,
    retention_days: int,
    batch_size: int = BATCH_SIZE,
    on_purged: Callable[[privacy_store.ClosedInquiry], None] = lambda _: None,
) -> int:
    """Erase every case closed longer than `retention_days`, a batch per transaction; returns
    how many were erased."""
    total = 0
    while True:
        async with transaction(pool) as conn:
            batch = await privacy_store.claim_closed_before(
                conn, CLOSED, cutoff(now, retention_days), batch_size
            )
            for inquiry in batch:
                await erasure.erase_locked(conn, erasing, inquiry.id, reason="retention", now=now)
        for inquiry in batch:
            on_purged(inquiry)
        total += len(batch)
        if len(batch) < batch_size:
            return total


async def purge_free_text(
    pool: Pool, *, now: datetime, days: int, batch_size: int = BATCH_SIZE
) -> int:
    """Wipe the notes and free-text reasons of cases closed longer than `days`; returns how
    many cases had some."""
    total = 0
    while True:
        async with transaction(pool) as conn:
            batch = await store.claim_free_text_before(conn, CLOSED, cutoff(now, days), batch_size)
            for inquiry_id in batch:
                await store.wipe_free_text(conn, inquiry_id)
        total += len(batch)
        if len(batch) < batch_size:
            return total


async def purge_billing_stubs(pool: Pool, *, now: datetime) -> int:
    """Delete the billing stubs whose accounting period is over."""
    async with transaction(pool) as conn:
        return await billing_store.delete_stubs_past(conn, now.date())


async def run(
    pool: Pool,
    erasing: erasure.Erasing,
    periods: Periods,
    *,
    trigger: store.Trigger,
    now: datetime,
    on_purged: Callable[[privacy_store.ClosedInquiry], None] = lambda _: None,
) -> Report:
    """Apply every class once, then keep the report."""
    report = Report(
        case_personal_data=await purge_due(
            pool, erasing, now=now, retention_days=periods.personal_data_days, on_purged=on_purged
        ),
        case_free_text=await purge_free_text(pool, now=now, days=periods.free_text_days),
        billing_stubs=await purge_billing_stubs(pool, now=now),
    )
    async with transaction(pool) as conn:
        await store.insert_run(
            conn,
            trigger=trigger,
            started_at=now,
            finished_at=datetime.now(UTC),
            purged=report.counts(),
        )
    return report


async def run_if_due(
    pool: Pool, erasing: erasure.Erasing, periods: Periods, *, interval: float, now: datetime
) -> Report | None:
    """The scheduled run, when it is due and this replica claims it; None otherwise."""
    async with transaction(pool) as conn:
        claimed = await store.claim_run(conn, JOB, now, timedelta(seconds=interval))
    if not claimed:
        return None
    return await run(pool, erasing, periods, trigger="schedule", now=now)


def retention_loop(periods: Periods, interval: float, keys: KeyRing) -> BackgroundLoop:
    async def loop(runtime: Runtime, stop: asyncio.Event) -> None:
        erasing = erasure.Erasing(
            outbox=runtime.outbox, keys=keys, billing_retention_years=periods.billing_years
        )
        while not stop.is_set():
            report = await run_if_due(
                runtime.pool, erasing, periods, interval=interval, now=datetime.now(UTC)
            )
            if report is not None:
                log.info("retention ran", **report.counts())
            await wait_any(stop, timeout=min(interval, POLL_SECONDS))

    return loop
