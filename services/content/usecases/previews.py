"""A draft version exactly as it will be served: rendered and composed as publishing would, but
never stored, cached or announced."""

from __future__ import annotations

from datetime import datetime

from services.content import publication
from services.content.domain.editorial import Published
from services.content.representation import Encoded, document, encode
from services.content.store import editorial as store
from services.content.store import reviews as review_store
from services.content.usecases.editorial import decode_document
from services.runtime.core.db import Pool
from services.runtime.core.errors import NotFound


async def preview_draft(
    pool: Pool, *, kind: str, slug: str, version: int, locale: str, now: datetime
) -> Encoded:
    async with pool.acquire() as conn:
        row = await store.find_document(conn, kind, slug)
        revision = None if row is None else await store.get_revision(conn, row.id, version)
        latest = None if row is None else await review_store.latest_sign_off(conn, row.id)
    if row is None or revision is None:
        raise NotFound("the previewed draft no longer exists")
    doc = decode_document(revision.body)
    draft = Published(
        document_id=row.id,
        kind=row.kind,
        slug=doc.slug,
        revision=revision.number,
        rendered=publication.render(doc),
        locales=sorted(doc.translations),
        updated_at=revision.created_at,
        # What readers would be told if this revision went out now.
        review=latest if latest is not None and latest.revision == revision.number else None,
    )
    # Never cached nor compressed: a preview is read once, by an editor.
    return encode(draft, document(draft, locale, now), locale, codings=())
