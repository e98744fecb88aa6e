"""Facts from other services that open cases, add to their timeline or erase them, applied in
the inbox's transaction: a case exists exactly when its fact was applied."""

from __future__ import annotations

import uuid
from datetime import datetime

from contracts.inquiries import PersonalDataErased
from contracts.logistics import (
    InterpreterRequestAnswered,
    LogisticsEvent,
    OperatorAlert,
    PartnerSupportRequested,
)
from contracts.notifications import NotificationFailed
from contracts.support import Category
from services.runtime.core.db import Connection
from services.runtime.core.errors import Invalid
from services.support.domain import interpreters
from services.support.domain.model import NewCase
from services.support.store import cases
from services.support.usecases.cases import erase_inquiry, open_case_in
from services.support.usecases.collaborators import Desk

# What a partner's booking is about, as the desk files it.
CATEGORY_OF_BOOKING: dict[str, Category] = {
    "transfer": "transfer",
    "interpreter": "interpreter",
    "shipment": "medicine",
}
# The desk's working language for cases the system opens.
SYSTEM_LANGUAGE = "en"


def _uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


async def apply_logistics_event(
    conn: Connection, d: Desk, event: LogisticsEvent, now: datetime
) -> None:
    match event:
        case PartnerSupportRequested():
            await open_case_in(
                conn,
                d,
                NewCase(
                    origin="partner",
                    category=CATEGORY_OF_BOOKING[event.booking_kind],
                    priority="urgent",
                    language=SYSTEM_LANGUAGE,
                    message=f"[{event.topic}] {event.message}",
                    inquiry_id=_uuid(event.inquiry_id),
                    booking_id=uuid.UUID(event.booking_id),
                    partner_id=event.partner_id,
                    author="partner",
                    author_name=event.partner_id,
                ),
                now,
            )
        case OperatorAlert() if event.alert == "booking_unassigned":
            await open_case_in(
                conn,
                d,
                NewCase(
                    origin="system",
                    category="other",
                    priority="urgent",
                    language=SYSTEM_LANGUAGE,
                    message=f"No partner accepted booking {event.booking_id}: {event.detail}",
                    inquiry_id=_uuid(event.inquiry_id),
                    booking_id=_uuid(event.booking_id),
                    author="system",
                ),
                now,
            )
        case InterpreterRequestAnswered():
            # The answer to the case's request for an interpreter, on its timeline.
            case_id = uuid.UUID(event.case_id)
            if await cases.get_case(conn, case_id) is None:
                raise Invalid.single("case_id", f"no support case {event.case_id}")
            await cases.insert_timeline(conn, case_id, interpreters.answered(event))
        case _:
            return  # other logistics facts open nothing


async def apply_notification_failed(
    conn: Connection, d: Desk, event: NotificationFailed, now: datetime
) -> None:
    """A patient we could not reach: someone must call them."""
    if event.audience != "patient" or event.inquiry_id is None:
        return
    await open_case_in(
        conn,
        d,
        NewCase(
            origin="system",
            category="other",
            priority="normal",
            language=SYSTEM_LANGUAGE,
            message=(
                f"A {event.kind} message by {event.channel} could not be delivered: "
                f"{event.reason}. Reach the patient another way."
            ),
            inquiry_id=uuid.UUID(event.inquiry_id),
            booking_id=_uuid(event.booking_id),
            author="system",
        ),
        now,
    )


async def apply_erasure(conn: Connection, event: PersonalDataErased, now: datetime) -> None:
    await erase_inquiry(conn, event.inquiry_id, now)
