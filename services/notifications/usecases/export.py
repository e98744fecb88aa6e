"""Notifications' part of a case's access and portability export, asked for by inquiries over
`rpc.notifications.case_export.v1`: every message written to the patient about the case, with
what it kept sealed opened. Only what the table keeps: no address and no language (both are
asked of inquiries at each send and never stored here). After an erasure the messages remain
with their kinds, channels and times, and nothing of what they said."""

from __future__ import annotations

from typing import get_args

import msgspec

from contracts.exports import (
    CaseExportRequest,
    ExportedNotification,
    NotificationParam,
    NotificationsCaseExport,
)
from contracts.notifications import ContactChannel
from services.notifications.store import notifications as store
from services.runtime.core.db import Pool
from services.runtime.privacy.crypto import KeyRing, from_column

_params = msgspec.json.Decoder(dict[str, NotificationParam])
_CHANNELS: tuple[ContactChannel, ...] = get_args(ContactChannel)


async def export_case(
    pool: Pool, keys: KeyRing, request: CaseExportRequest
) -> NotificationsCaseExport:
    async with pool.acquire() as conn:
        kept = await store.patient_messages_of_case(conn, request.inquiry_id)
    return NotificationsCaseExport(
        inquiry_id=request.inquiry_id,
        notifications=tuple(_exported(keys, m) for m in kept),
    )


def _exported(keys: KeyRing, m: store.PatientMessage) -> ExportedNotification:
    message_id = str(m.id)
    return ExportedNotification(
        notification_id=message_id,
        kind=m.kind,
        booking_id=None if m.booking_id is None else str(m.booking_id),
        status=m.status,
        # The channels that took it, in the order they did.
        channels=tuple(c for c in (m.channel or "").split(",") if c in _CHANNELS),
        attempts=m.attempts,
        created_at=m.created_at,
        sent_at=m.sent_at,
        last_error=m.last_error,
        params=_params.decode(m.params),
        details=None
        if m.sealed_details is None
        else keys.decrypt_json(
            from_column(m.sealed_details),
            aad=store.details_aad(message_id),
            type=dict[str, NotificationParam],
        ),
        provider_answer=None
        if m.sealed_reply is None
        else keys.decrypt(from_column(m.sealed_reply), aad=store.reply_aad(message_id)).decode(),
    )
