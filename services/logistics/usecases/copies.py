"""Erasure beyond the bookings: the copies of a traveller's data that left them. The offers
still in the PARTNERS stream (or the outbox), the partners' replies in PARTNER_REPLIES that
mention the bookings (a note may quote the traveller), the dead letters that mention the
inquiry, and the offers still waiting to be sent to a webhook partner."""

from __future__ import annotations

from contracts.registry import PARTNER_REPLIES
from services.logistics.store import offers
from services.runtime.core.db import Connection
from services.runtime.messaging import dead_letters, stream_copies, webhooks
from services.runtime.messaging.outbox import Outbox


async def erase_copies(conn: Connection, outbox: Outbox, inquiry_id: str) -> None:
    """In the erasing transaction, beside `erase_inquiry`."""
    ids = await offers.ids_of_inquiry(conn, inquiry_id)
    for partner_id in await offers.partners_offered(conn, inquiry_id):
        await stream_copies.scan_for(
            conn,
            stream=PARTNER_REPLIES.stream,
            subject=PARTNER_REPLIES.subject(partner_id=partner_id),
            needles=ids,
        )
    await outbox.retract(conn, inquiry_id)
    # Offers still waiting for a webhook partner's endpoint are not sent (erasure notices carry
    # no erasure key, so they still go out).
    await webhooks.retract(conn, inquiry_id)
    await dead_letters.erase_mentioning(conn, [inquiry_id, *ids])
