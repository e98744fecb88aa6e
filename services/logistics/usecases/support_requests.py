"""A partner's request for the support desk about a booking it holds, forwarded to support as
an event linked to the booking and its case. Logistics decides only that the partner may ask
about that booking; the case is support's."""

from __future__ import annotations

import uuid
from datetime import datetime

from contracts.logistics import PartnerSupportRequested
from contracts.partners import SupportRequest
from contracts.registry import PARTNER_SUPPORT_REQUESTED
from services.logistics.store import support_requests
from services.logistics.usecases.collaborators import BookingCollaborators
from services.runtime.core.db import Connection
from services.runtime.core.errors import Invalid


async def forward_support_request(
    conn: Connection, c: BookingCollaborators, request: SupportRequest, sender: str, now: datetime
) -> None:
    """In the inbox's transaction. A booking the sender was never offered raises Invalid: the
    consumer keeps it as a dead letter and nothing is forwarded."""
    held = await support_requests.held_booking(conn, sender, uuid.UUID(request.booking_id))
    if held is None:
        raise Invalid.single(
            "booking_id", f"partner {sender} holds no booking {request.booking_id}"
        )
    inquiry_id, kind = held
    # The partner's words may name the traveller: sealed in the outbox, erased with the case.
    await c.outbox.emit(
        conn,
        PARTNER_SUPPORT_REQUESTED.address,
        PartnerSupportRequested(
            booking_id=request.booking_id,
            inquiry_id=inquiry_id,
            booking_kind=kind,  # type: ignore[arg-type]  # the table holds BookingKind values
            partner_id=sender,
            topic=request.topic,
            message=request.message,
            requested_at=now,
        ),
        erasure_key=inquiry_id,
    )
