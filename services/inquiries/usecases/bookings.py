"""The bookings logistics made for a case, as the patient sees them: who serves each, how far
it is, and what its partner reported for the patient (sealed here, opened for the view)."""

from __future__ import annotations

import uuid

from contracts.logistics import Arrangement
from services.inquiries.domain import casework
from services.inquiries.domain.model import aad
from services.inquiries.domain.views import BookingView
from services.inquiries.store import casework as store
from services.runtime.core.db import Connection
from services.runtime.privacy.crypto import KeyRing, from_column


async def booking_views(
    conn: Connection, keys: KeyRing, inquiry_id: uuid.UUID
) -> list[BookingView]:
    """The bookings the patient sees, with what their partners reported for them (opened)."""
    rows = await store.bookings_shown(conn, inquiry_id, tuple(sorted(casework.PATIENT_VISIBLE)))
    return [
        BookingView(
            booking_id=r.booking_id,
            kind=r.kind,
            status=r.status,
            partner_name=r.partner_name,
            progress=r.progress,
            arrangement=None
            if r.arrangement is None
            else keys.decrypt_json(
                from_column(r.arrangement),
                aad=arrangement_aad(inquiry_id, r.booking_id),
                type=Arrangement,
            ),
        )
        for r in rows
    ]


def arrangement_aad(inquiry_id: uuid.UUID, booking_id: str) -> bytes:
    return aad(inquiry_id, f"booking:{booking_id}:arrangement")
