"""The staff's view of what was sent, pending or failed: ids, kinds and codes, no address."""

from __future__ import annotations

import uuid

from services.notifications.store import notifications as store
from services.notifications.store.notifications import NotificationRow
from services.runtime.core.db import Pool


async def notifications_listed(
    pool: Pool, *, status: str | None, inquiry_id: uuid.UUID | None, limit: int
) -> list[NotificationRow]:
    async with pool.acquire() as conn:
        return await store.listing(conn, status=status, inquiry_id=inquiry_id, limit=limit)
