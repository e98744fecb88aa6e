"""The conditions an inquiry may name, learned from content events: the inquiries service never
calls the content service, so a content outage cannot stop patients from submitting."""

from __future__ import annotations

from contracts.content import (
    ContentEvent,
    ContentPublished,
    ContentUnpublished,
    content_event_decoder,
)
from contracts.envelope import Metadata
from contracts.registry import CONTENT_PUBLISHED, CONTENT_UNPUBLISHED
from services.runtime.core.db import Connection
from services.runtime.messaging.inbox import Subscription


async def apply_content_event(conn: Connection, event: ContentEvent, _: Metadata) -> None:
    if event.kind != "condition":
        return
    match event:
        case ContentPublished():
            # Revisions order the facts: a late, older event never undoes a newer one.
            await conn.execute(
                """INSERT INTO known_conditions (slug, revision, locales) VALUES ($1, $2, $3)
                   ON CONFLICT (slug) DO UPDATE SET revision = EXCLUDED.revision,
                       locales = EXCLUDED.locales
                   WHERE known_conditions.revision <= EXCLUDED.revision""",
                event.slug,
                event.revision,
                list(event.locales),
            )
            await conn.execute(
                "DELETE FROM known_conditions WHERE slug = ANY($1::text[])",
                list(event.previous_slugs),
            )
        case ContentUnpublished():
            await conn.execute(
                "DELETE FROM known_conditions WHERE slug = $1 AND revision <= $2",
                event.slug,
                event.revision,
            )


async def is_known(conn: Connection, slug: str) -> bool:
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM known_conditions WHERE slug = $1)", slug)
    )


CONDITION_CATALOGUE = Subscription(
    name="inquiries-condition-catalogue",
    channels=(CONTENT_PUBLISHED, CONTENT_UNPUBLISHED),
    decoder=content_event_decoder,
    handler=apply_content_event,
)
