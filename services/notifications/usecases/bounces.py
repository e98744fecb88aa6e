"""A bounce reported after the SMTP server accepted a message (RFC 3464, to the message's own
return path): the message is recorded failed, announced and on-call told, as a refusal during
the exchange is."""

from __future__ import annotations

from datetime import datetime

import structlog

from services.notifications.store import notifications as store
from services.notifications.usecases.collaborators import Notifying
from services.notifications.usecases.sending import record_failure

log = structlog.get_logger(__name__)


async def record_bounce(d: Notifying, notification_id: str, status: str, now: datetime) -> bool:
    """False when there is nothing to record: no such message, or not one that was sent (a
    second report of the same bounce, or one about a message already failed or erased)."""
    async with d.pool.acquire() as conn, conn.transaction():
        message = await store.lock_sent(conn, notification_id)
        if message is None:
            return False
        await record_failure(
            conn,
            d,
            message,
            reason=f"bounced {status}",
            reply="",
            channel="email",
            now=now,
        )
    log.error("notification bounced", notification_id=notification_id, status=status)
    return True
