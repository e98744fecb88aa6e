"""The content a fresh installation starts with (services/content/seed/*.json): created and
published once; documents that exist already are left as editors made them.

The seed is sample content that no medical reviewer has signed off: it reads `unreviewed`, and
it is published only where review is not required (the local stack); elsewhere it stays as
drafts for editors to rework and reviewers to sign off."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from services.content.domain.documents import Document, document_decoder, kind_of
from services.content.store import editorial as store
from services.content.usecases import editorial
from services.runtime.core.db import Pool
from services.runtime.core.errors import Conflict, Invalid
from services.runtime.messaging.outbox import Outbox

SEED_DIR = Path(__file__).parents[1] / "seed"
SEED_AUTHOR = "carebridge-seed"


@dataclass
class SeedReport:
    created: int = 0
    published: int = 0
    # slug -> why publishing was refused (e.g. a medical review fell due): kept as a draft.
    refused: dict[str, str] = field(default_factory=dict)


def load_seed_documents(folder: Path = SEED_DIR) -> list[Document]:
    return [document_decoder.decode(path.read_bytes()) for path in sorted(folder.glob("*.json"))]


async def seed_content(
    pool: Pool,
    outbox: Outbox,
    *,
    now: datetime,
    review_required: bool,
    folder: Path = SEED_DIR,
) -> SeedReport:
    """Create the missing seed documents and publish them. All are created before any is
    published, because they name each other as related items."""
    report = SeedReport()
    created: list[Document] = []
    for doc in load_seed_documents(folder):
        async with pool.acquire() as conn:
            exists = await store.find_document(conn, kind_of(doc), doc.slug)
        if exists is None:
            await editorial.create_document(pool, doc, author=SEED_AUTHOR, now=now)
            created.append(doc)
    report.created = len(created)
    for doc in created:
        try:
            await editorial.publish(
                pool,
                outbox,
                kind_of(doc),
                doc.slug,
                at=None,
                expected_version=None,
                review_required=review_required,
                now=now,
            )
        except (Invalid, Conflict) as exc:
            report.refused[doc.slug] = exc.detail
        else:
            report.published += 1
    return report
