"""What content's use-case tests share: the moment they run at, and published documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.content.usecases import editorial
from services.content.usecases.editorial import decode_document
from services.runtime.core.db import Pool
from services.runtime.messaging.outbox import Outbox

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


async def create_and_publish(pool: Pool, outbox: Outbox, doc: dict[str, Any]) -> None:
    await editorial.create_document(pool, decode_document(doc), author="Eva", now=NOW)
    await editorial.publish(
        pool,
        outbox,
        doc["kind"],
        doc["slug"],
        at=None,
        expected_version=None,
        review_required=False,
        now=NOW,
    )


async def publish_revision(pool: Pool, outbox: Outbox, doc: dict[str, Any], version: int) -> None:
    """`doc` saved over draft `version` of a published document, and published."""
    await editorial.save_draft(
        pool, doc["kind"], doc["slug"], decode_document(doc), author="Eva",
        expected_version=version, now=NOW,
    )  # fmt: skip
    await editorial.publish(
        pool, outbox, doc["kind"], doc["slug"], at=None, expected_version=version + 1,
        review_required=False, now=NOW,
    )  # fmt: skip
