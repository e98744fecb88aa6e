"""Retention per data class: what the inquiries service keeps about a case, and for how long.

| class | what | purged |
| --- | --- | --- |
| `case_personal_data` | the patient's identity, contact and health data, offers, case records | INQUIRIES_RETENTION_DAYS after the case closed, as an erasure (PersonalDataErased: logistics and partners wipe their copies) |
| `case_free_text` | coordinators' notes and free-text reasons | INQUIRIES_FREE_TEXT_RETENTION_DAYS after the case closed |
| `billing_stubs` | the pseudonymous stub an erasure keeps for the books | INQUIRIES_BILLING_RETENTION_YEARS after the end of the year of erasure |

One job applies them all: a background loop in every replica (consumers.py) whose schedule lives in
PostgreSQL (the next run is claimed by one replica, and a restart neither skips nor repeats a
run), and `python -m services.inquiries.retention [--dry-run]` on demand. Each run's report,
per class, is kept in `retention_runs`. Due cases are claimed with FOR UPDATE SKIP LOCKED, so
replicas and the command running at once never purge one twice."""  # noqa: E501 - a table

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from services.inquiries.domain.retention import CLOSED, Periods, Report, cutoff
from services.inquiries.store import billing as billing_store
from services.inquiries.store import privacy as privacy_store
from services.inquiries.store import retention as store
from services.inquiries.usecases.privacy import erasure
from services.runtime.core.db import Pool, transaction

BATCH_SIZE = 100
JOB = "retention"


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
