"""Medical review commands and reads: reviewer profiles (admins), sign-offs (medical
reviewers), and the queue of published medical documents that are unreviewed or overdue
(editors). A sign-off changes nothing readers see until the signed revision is published."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from services.content.domain import reviews
from services.content.domain.reviews import ReviewerProfile, SignOff
from services.content.store import editorial as store
from services.content.store import reviews as review_store
from services.content.store.reviews import QueueRow
from services.runtime.core.db import Pool, transaction
from services.runtime.core.errors import NotFound

QueueStatus = Literal["unreviewed", "overdue"]


async def save_reviewer(pool: Pool, profile: ReviewerProfile, *, now: datetime) -> None:
    async with transaction(pool) as conn:
        await review_store.upsert_reviewer(conn, profile, now)


async def list_reviewers(pool: Pool) -> list[ReviewerProfile]:
    async with pool.acquire() as conn:
        return await review_store.list_reviewers(conn)


async def sign_off(
    pool: Pool,
    kind: str,
    slug: str,
    *,
    person: str,
    revision: int,
    next_review_due: date,
    note: str | None,
    now: datetime,
) -> SignOff:
    async with transaction(pool) as conn:
        record = await store.lock_document(conn, kind, slug)
        if record is None:
            raise NotFound(f"no {kind} has the slug {slug!r}")
        decided = reviews.sign_off(
            record,
            person=person,
            profile=await review_store.find_reviewer(conn, person),
            revision=revision,
            authors=await review_store.revision_authors(conn, record.id),
            next_review_due=next_review_due,
            note=note,
            now=now,
        )
        await review_store.insert_sign_off(conn, decided)
        return decided


async def list_sign_offs(pool: Pool, kind: str, slug: str) -> list[SignOff]:
    async with pool.acquire() as conn:
        record = await store.find_document(conn, kind, slug)
        if record is None:
            raise NotFound(f"no {kind} has the slug {slug!r}")
        return await review_store.list_sign_offs(conn, record.id)


async def review_queue(
    pool: Pool, *, status: QueueStatus | None, now: datetime
) -> list[tuple[QueueRow, reviews.ReviewState]]:
    """Published medical documents that are unreviewed or overdue at `now` (or only those of
    `status`), each with what readers are told."""
    async with pool.acquire() as conn:
        rows = await review_store.review_queue(conn, due_before=now.date())
    found = [(row, reviews.review_state(row.review, now)) for row in rows]
    return [(row, state) for row, state in found if status is None or state.status == status]
