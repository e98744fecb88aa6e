"""Editorial commands, each one transaction: load, let the domain decide, save, and announce
through the outbox. Reached from HTTP, the scheduler and the seed alike. Also the editors' reads
(drafts, revisions, differences), which need no transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
import structlog

from contracts.registry import CONTENT_PUBLISHED, CONTENT_UNPUBLISHED
from services.content import publication
from services.content.domain import editorial
from services.content.domain.documents import Document, document_decoder, kind_of
from services.content.domain.editorial import DocumentRecord, Draft, Publication
from services.content.domain.revisions import Change, diff
from services.content.store import editorial as store
from services.content.store import reviews as review_store
from services.content.store.editorial import RevisionRow
from services.content.usecases import site_webhooks
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import Conflict, Invalid, NotFound
from services.runtime.messaging.outbox import Outbox

log = structlog.get_logger(__name__)


def decode_document(raw: Any) -> Document:
    doc: Document = document_decoder.decode(msgspec.json.encode(raw))
    return doc


async def create_document(
    pool: Pool, doc: Document, *, author: str, now: datetime
) -> DocumentRecord:
    kind, document_id = kind_of(doc), uuid.uuid4()
    async with transaction(pool) as conn:
        taken = await store.slug_taken(conn, kind, doc.slug, other_than=document_id)
        draft = editorial.create(
            doc, document_id=document_id, slug_taken=taken, author=author, now=now
        )
        return await _save(conn, draft)


async def save_draft(
    pool: Pool,
    kind: str,
    slug: str,
    doc: Document,
    *,
    author: str,
    expected_version: int | None,
    now: datetime,
    note: str | None = None,
) -> DocumentRecord:
    """A new revision of the draft; `expected_version` (If-Match) guards against lost updates."""
    editorial.check_kind(kind, doc)
    async with transaction(pool) as conn:
        row = await _lock(conn, kind, slug)
        # Only a changed slug can collide: the document's own slug is its own.
        taken = doc.slug != row.slug and await store.slug_taken(conn, kind, doc.slug, row.id)
        draft = editorial.save_draft(
            row,
            doc,
            slug_taken=taken,
            author=author,
            expected_version=expected_version,
            now=now,
            note=note,
        )
        return await _save(conn, draft)


async def restore_revision(
    pool: Pool,
    kind: str,
    slug: str,
    number: int,
    *,
    author: str,
    expected_version: int | None,
    now: datetime,
) -> DocumentRecord:
    async with transaction(pool) as conn:
        row = await _lock(conn, kind, slug)
        revision = await store.get_revision(conn, row.id, number)
    if revision is None:
        raise NotFound(f"{kind} {slug!r} has no revision {number}")
    return await save_draft(
        pool,
        kind,
        slug,
        decode_document(revision.body),
        author=author,
        expected_version=expected_version,
        now=now,
        note=f"restored revision {number}",
    )


async def publish(
    pool: Pool,
    outbox: Outbox,
    kind: str,
    slug: str,
    *,
    at: datetime | None,
    expected_version: int | None,
    review_required: bool,
    now: datetime,
) -> DocumentRecord:
    """Publish the current draft now, or schedule it for `at`. Validation runs both times, so
    a schedule is refused up front and a publication never goes out broken. With
    `review_required` (CONTENT_REQUIRE_REVIEW), a medical document needs a sign-off of the
    revision that goes out."""
    async with transaction(pool) as conn:
        row = await _lock(conn, kind, slug)
        editorial.check_version(row, expected_version)
        doc = decode_document(row.draft)
        existing = await store.document_slugs(conn)
        if at is not None and at > now:
            scheduled = editorial.schedule(
                row,
                doc,
                at=at,
                existing=existing,
                latest_review=await review_store.latest_sign_off(conn, row.id),
                review_required=review_required,
                now=now,
            )
            await store.update_standing(conn, scheduled)
        else:
            await _publish_now(conn, outbox, row, row.version, doc, existing, now, review_required)
        return await _reload(conn, kind, doc.slug)


async def cancel_schedule(pool: Pool, kind: str, slug: str) -> DocumentRecord:
    async with transaction(pool) as conn:
        row = await _lock(conn, kind, slug)
        await store.update_standing(conn, editorial.cancel_schedule(row))
        return await _reload(conn, kind, slug)


async def publish_due(
    pool: Pool, outbox: Outbox, *, review_required: bool, now: datetime, limit: int = 20
) -> int:
    """Publish every scheduled document that is due. Survives restarts: schedules live in the
    database, and replicas claim them with SKIP LOCKED."""
    published = 0
    async with transaction(pool) as conn:
        for row in await store.claim_due(conn, now, limit):
            number = row.scheduled_revision or row.version
            revision = await store.get_revision(conn, row.id, number)
            if revision is None:  # revisions are never deleted; a row without one is corrupt
                raise NotFound(f"{row.kind} {row.slug!r} has no revision {number}")
            try:
                async with conn.transaction():
                    existing = await store.document_slugs(conn)
                    doc = decode_document(revision.body)
                    await _publish_now(
                        conn, outbox, row, revision.number, doc, existing, now, review_required
                    )
                published += 1
            except (Invalid, Conflict) as exc:
                # Related content was unpublished, or the sign-off fell due, since scheduling:
                # drop the schedule, say why.
                await store.update_standing(conn, editorial.cancel_schedule(row))
                log.error(  # noqa: TRY400 - a refusal, not a crash: no traceback to show
                    "scheduled publication refused",
                    kind=row.kind,
                    slug=row.slug,
                    problems=exc.detail,
                )
    return published


async def unpublish(
    pool: Pool, outbox: Outbox, kind: str, slug: str, *, now: datetime
) -> DocumentRecord:
    async with transaction(pool) as conn:
        row = await _lock(conn, kind, slug)
        withdrawal = editorial.unpublish(row, await store.published_for(conn, row.id), now=now)
        await store.delete_published(conn, row.id)
        await store.update_standing(conn, withdrawal.record)
        await store.insert_change(conn, withdrawal.change)
        event_id = await outbox.emit(conn, CONTENT_UNPUBLISHED.subject(kind=kind), withdrawal.event)
        await site_webhooks.queue(conn, withdrawal.event, event_id, now=now)
        return await _reload(conn, kind, row.slug)


async def find_document(pool: Pool, kind: str, slug: str) -> DocumentRecord:
    async with pool.acquire() as conn:
        return await _reload(conn, kind, slug)


async def list_documents(pool: Pool, kind: str) -> list[DocumentRecord]:
    async with pool.acquire() as conn:
        return await store.list_documents(conn, kind)


async def list_revisions(pool: Pool, kind: str, slug: str) -> list[RevisionRow]:
    async with pool.acquire() as conn:
        row = await _reload(conn, kind, slug)
        return await store.list_revisions(conn, row.id)


async def compare_revisions(
    pool: Pool, kind: str, slug: str, from_revision: int, to: int | None
) -> tuple[int, list[Change]]:
    """The revision compared against (`to`, or the current one) and the changes up to it."""
    async with pool.acquire() as conn:
        row = await _reload(conn, kind, slug)
        target = to or row.version
        before = await store.get_revision(conn, row.id, from_revision)
        after = await store.get_revision(conn, row.id, target)
    missing = [n for n, r in ((from_revision, before), (target, after)) if r is None]
    if before is None or after is None:
        raise NotFound(f"{kind} {slug!r} has no revision {missing[0]}")
    return target, diff(before.body, after.body)


async def _publish_now(
    conn: Connection,
    outbox: Outbox,
    row: DocumentRecord,
    revision: int,
    doc: Document,
    existing: dict[str, frozenset[str]],
    now: datetime,
    review_required: bool,
) -> None:
    decided = editorial.publish(
        row,
        doc,
        revision=revision,
        previous=await store.published_for(conn, row.id),
        old_slugs=await store.old_slugs(conn, row.id),
        existing=existing,
        latest_review=await review_store.latest_sign_off(conn, row.id),
        review_required=review_required,
        now=now,
    )
    await _save_publication(conn, outbox, decided)


async def _save_publication(conn: Connection, outbox: Outbox, decided: Publication) -> None:
    row, doc = decided.record, decided.document
    if decided.redirect_from is not None:
        await store.insert_redirect(conn, row.kind, decided.redirect_from, row.id)
    specialty, tags = publication.facets(doc)
    await store.upsert_published(
        conn,
        document_id=row.id,
        kind=row.kind,
        slug=doc.slug,
        revision=decided.revision,
        rendered=publication.render(doc),
        locales=list(decided.event.locales),
        specialty=specialty,
        tags=tags,
        review=decided.review,
        now=decided.change.at,
    )
    await store.replace_search_entries(conn, row.id, publication.search_entries(doc))
    await store.update_standing(conn, row)
    await store.insert_change(conn, decided.change)
    event_id = await outbox.emit(conn, CONTENT_PUBLISHED.subject(kind=row.kind), decided.event)
    # Sites that asked are told too, to purge their CDN.
    await site_webhooks.queue(conn, decided.event, event_id, now=decided.change.at)


async def _save(conn: Connection, draft: Draft) -> DocumentRecord:
    await store.save_draft(conn, draft.record)
    await store.insert_revision(conn, draft.revision)
    return await _reload(conn, draft.record.kind, draft.record.slug)


async def _lock(conn: Connection, kind: str, slug: str) -> DocumentRecord:
    row = await store.lock_document(conn, kind, slug)
    if row is None:
        raise NotFound(f"no {kind} has the slug {slug!r}")
    return row


async def _reload(conn: Connection, kind: str, slug: str) -> DocumentRecord:
    """The document as stored: the answer shows the draft as the database holds it."""
    row = await store.find_document(conn, kind, slug)
    if row is None:
        raise NotFound(f"no {kind} has the slug {slug!r}")
    return row
