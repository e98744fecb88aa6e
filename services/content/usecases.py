"""Editorial commands, each one transaction: load, decide, save, and announce through the outbox.
Reached from HTTP and from the scheduler alike."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
import structlog

from contracts.content import ContentPublished, ContentUnpublished
from contracts.registry import CONTENT_PUBLISHED, CONTENT_UNPUBLISHED
from services.content import publication, store
from services.content.documents import Document, document_decoder
from services.content.domain import publish_problems
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import (
    Conflict,
    FieldProblem,
    Invalid,
    NotFound,
    PreconditionFailed,
)
from services.runtime.messaging.outbox import Outbox

log = structlog.get_logger(__name__)


def decode_document(raw: Any) -> Document:
    doc: Document = document_decoder.decode(msgspec.json.encode(raw))
    return doc


async def create_document(
    pool: Pool, doc: Document, *, author: str, now: datetime
) -> store.DocumentRow:
    kind = publication.kind_of(doc)
    document_id = uuid.uuid4()
    async with transaction(pool) as conn:
        if await store.slug_taken(conn, kind, doc.slug, other_than=document_id):
            raise Conflict(f"a {kind} with the slug {doc.slug!r} exists already")
        body = msgspec.to_builtins(doc)
        await store.insert_document(
            conn, id=document_id, kind=kind, slug=doc.slug, draft=body, now=now
        )
        await store.insert_revision(
            conn, document_id=document_id, number=1, body=body, author=author, now=now
        )
        return await _reload(conn, kind, doc.slug)


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
) -> store.DocumentRow:
    """A new revision of the draft; `expected_version` (If-Match) guards against lost updates."""
    if publication.kind_of(doc) != kind:
        raise Invalid([FieldProblem(field="kind", message=f"this document is a {kind}")])
    async with transaction(pool) as conn:
        row = await _lock(conn, kind, slug)
        _check_version(row, expected_version)
        if doc.slug != row.slug and await store.slug_taken(conn, kind, doc.slug, row.id):
            raise Conflict(f"a {kind} with the slug {doc.slug!r} exists already")
        body = msgspec.to_builtins(doc)
        version = row.version + 1
        await store.insert_revision(
            conn, document_id=row.id, number=version, body=body, author=author, now=now, note=note
        )
        await store.update_draft(
            conn, id=row.id, slug=doc.slug, draft=body, version=version, now=now
        )
        return await _reload(conn, kind, doc.slug)


async def restore_revision(
    pool: Pool,
    kind: str,
    slug: str,
    number: int,
    *,
    author: str,
    expected_version: int | None,
    now: datetime,
) -> store.DocumentRow:
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
    now: datetime,
) -> store.DocumentRow:
    """Publish the current draft now, or schedule it for `at`. Validation runs both times, so
    a schedule is refused up front and a publication never goes out broken."""
    async with transaction(pool) as conn:
        row = await _lock(conn, kind, slug)
        _check_version(row, expected_version)
        doc = decode_document(row.draft)
        if at is not None and at > now:
            await _validate(conn, doc, now)
            await store.set_schedule(conn, row.id, row.version, at)
        else:
            await _publish_now(conn, outbox, row, row.version, doc, now)
        return await _reload(conn, kind, doc.slug)


async def cancel_schedule(pool: Pool, kind: str, slug: str) -> store.DocumentRow:
    async with transaction(pool) as conn:
        row = await _lock(conn, kind, slug)
        if row.scheduled_for is None:
            raise Conflict(f"{kind} {slug!r} has no scheduled publication")
        await store.set_schedule(conn, row.id, None, None)
        return await _reload(conn, kind, slug)


async def publish_due(pool: Pool, outbox: Outbox, *, now: datetime, limit: int = 20) -> int:
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
                    await _publish_now(
                        conn, outbox, row, revision.number, decode_document(revision.body), now
                    )
                published += 1
            except Invalid as exc:
                # Related content was unpublished since scheduling: drop the schedule, say why.
                await store.set_schedule(conn, row.id, None, None)
                log.error(  # noqa: TRY400 - a refusal, not a crash: no traceback to show
                    "scheduled publication refused",
                    kind=row.kind,
                    slug=row.slug,
                    problems=exc.detail,
                )
    return published


async def unpublish(
    pool: Pool, outbox: Outbox, kind: str, slug: str, *, now: datetime
) -> store.DocumentRow:
    async with transaction(pool) as conn:
        row = await _lock(conn, kind, slug)
        current = await store.published_for(conn, row.id)
        if current is None:
            raise Conflict(f"{kind} {slug!r} is not published")
        await store.delete_published(conn, row.id)
        await store.mark_published(conn, row.id, None, None)
        await store.insert_change(
            conn,
            document_id=row.id,
            kind=kind,
            slug=current.slug,
            action="unpublished",
            revision=current.revision,
            now=now,
        )
        await outbox.emit(
            conn,
            CONTENT_UNPUBLISHED.subject(kind=kind),
            ContentUnpublished(
                kind=kind,  # type: ignore[arg-type]  # checked by the documents table
                slug=current.slug,
                locales=tuple(current.locales),
                revision=current.revision,
                unpublished_at=now,
            ),
        )
        return await _reload(conn, kind, row.slug)


async def _publish_now(
    conn: Connection,
    outbox: Outbox,
    row: store.DocumentRow,
    revision: int,
    doc: Document,
    now: datetime,
) -> None:
    await _validate(conn, doc, now)
    kind = row.kind
    previous = await store.published_for(conn, row.id)
    if previous is not None and previous.slug != doc.slug:
        await store.insert_redirect(conn, kind, previous.slug, row.id)
    specialty, tags = publication.facets(doc)
    locales = sorted(doc.translations)
    await store.upsert_published(
        conn,
        document_id=row.id,
        kind=kind,
        slug=doc.slug,
        revision=revision,
        rendered=publication.render(doc),
        locales=locales,
        specialty=specialty,
        tags=tags,
        now=now,
    )
    await store.replace_search_entries(conn, row.id, publication.search_entries(doc))
    await store.mark_published(conn, row.id, revision, now)
    await store.insert_change(
        conn,
        document_id=row.id,
        kind=kind,
        slug=doc.slug,
        action="published",
        revision=revision,
        now=now,
    )
    await outbox.emit(
        conn,
        CONTENT_PUBLISHED.subject(kind=kind),
        ContentPublished(
            kind=kind,  # type: ignore[arg-type]  # checked by the documents table
            slug=doc.slug,
            locales=tuple(locales),
            revision=revision,
            published_at=now,
            previous_slugs=tuple(await store.old_slugs(conn, row.id)),
        ),
    )


async def _validate(conn: Connection, doc: Document, now: datetime) -> None:
    # Related documents must exist; they need not be published yet (a condition and its
    # treatments name each other, so neither could go first). Reads embed only published ones.
    existing = await store.document_slugs(conn)
    problems = publish_problems(doc, existing, now.date())
    if problems:
        raise Invalid(problems)


async def _lock(conn: Connection, kind: str, slug: str) -> store.DocumentRow:
    row = await store.lock_document(conn, kind, slug)
    if row is None:
        raise NotFound(f"no {kind} has the slug {slug!r}")
    return row


async def _reload(conn: Connection, kind: str, slug: str) -> store.DocumentRow:
    row = await store.find_document(conn, kind, slug)
    if row is None:  # read back inside the transaction that wrote it
        raise NotFound(f"no {kind} has the slug {slug!r}")
    return row


def _check_version(row: store.DocumentRow, expected: int | None) -> None:
    if expected is not None and expected != row.version:
        raise PreconditionFailed(
            f"{row.kind} {row.slug!r} is at version {row.version}, not {expected}; "
            "reload it and apply your change again"
        )
