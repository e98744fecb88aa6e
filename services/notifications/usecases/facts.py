"""A fact consumed from inquiries or logistics, turned into the messages it brings, in the
inbox's transaction: the message exists exactly when the fact was applied."""

from __future__ import annotations

import uuid
from datetime import datetime

from contracts.inquiries import InquiryEvent
from contracts.logistics import LogisticsEvent
from contracts.operations import DeadLetterRecorded
from contracts.support import SupportEvent
from services.notifications.domain import decisions
from services.notifications.domain.model import Decision
from services.notifications.store import notifications as store
from services.runtime.core.db import Connection
from services.runtime.privacy.crypto import KeyRing, to_column


async def apply_inquiry_event(
    conn: Connection, keys: KeyRing, event: InquiryEvent, now: datetime
) -> None:
    await save(conn, keys, decisions.decide_inquiry_event(event, now), now)


async def apply_logistics_event(
    conn: Connection, keys: KeyRing, event: LogisticsEvent, now: datetime
) -> None:
    await save(conn, keys, decisions.decide_logistics_event(event, now), now)


async def apply_dead_letter(
    conn: Connection, keys: KeyRing, event: DeadLetterRecorded, now: datetime
) -> None:
    await save(conn, keys, decisions.decide_dead_letter(event, now), now)


async def apply_support_event(
    conn: Connection, keys: KeyRing, event: SupportEvent, now: datetime
) -> None:
    await save(conn, keys, decisions.decide_support_event(event, now), now)


async def save(conn: Connection, keys: KeyRing, decision: Decision, now: datetime) -> None:
    # Cancel first: a plan may replace the pending message of its key (a newer offer's reminder).
    if decision.cancel_keys:
        await store.cancel_keys(conn, decision.cancel_keys, now)
    if decision.cancel_case is not None:
        reason = "erased" if decision.erase_case else "case stopped"
        await store.cancel_case(conn, decision.cancel_case, now, reason)
    if decision.erase_case and decision.cancel_case is not None:
        await store.erase_case(conn, decision.cancel_case, now)
    for planned in decision.planned:
        notification_id = uuid.uuid4()
        sealed = (
            to_column(keys.encrypt_json(planned.details, aad=store.details_aad(notification_id)))
            if planned.details
            else None
        )
        await store.insert(
            conn, planned, now, notification_id=notification_id, sealed_details=sealed
        )
