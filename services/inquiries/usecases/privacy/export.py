"""The access and portability export of a case (GDPR Art. 15 and 20): one JSON document with
every personal datum every service keeps about it, every disclosure of it, and every staff read
of it (who and when, from each service's audit log).

Inquiries holds the case; the other services' parts are asked for at once, in parallel, over
`rpc.<service>.case_export.v1`: logistics' bookings, support's cases with their threads, and the
messages notifications wrote to the patient (inquiries never reads their tables). Either the
whole document or none: when any of them does not answer, the export fails with a 503 and is not
recorded as disclosed, because a partial export would tell the patient, wrongly, that the
silent service holds nothing about them."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import msgspec

from contracts.envelope import Event
from contracts.exports import (
    CaseExport,
    CaseExportFailed,
    CaseExportRequest,
    Disclosure,
    ExportedBooking,
    ExportedNotification,
    ExportedSupportCase,
    NotificationsCaseExport,
    RecipientType,
    StaffRead,
    SupportCaseExport,
    case_export_reply_decoder,
    notifications_case_export_reply_decoder,
    support_case_export_reply_decoder,
)
from contracts.registry import (
    CASE_EXPORT,
    NOTIFICATIONS_CASE_EXPORT,
    SUPPORT_CASE_EXPORT,
    RequestChannel,
)
from services.inquiries.domain.views import CaseView
from services.inquiries.usecases import casework
from services.runtime.access import audit
from services.runtime.core.db import Pool, transaction
from services.runtime.core.errors import Unavailable
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.request_reply import NoAnswer, ask
from services.runtime.privacy import disclosures
from services.runtime.privacy.crypto import KeyRing

P = TypeVar("P", bound=Event)

# Seconds a client is told to wait before trying again when a service did not answer.
RETRY_AFTER = 10


@dataclass(frozen=True)
class Exporter:
    """What an export needs beyond the runtime: the key ring, and how long each other service
    may take to answer for its part."""

    keys: KeyRing
    timeout: float


class Recipient(msgspec.Struct, frozen=True, kw_only=True):
    """Who receives the export: the patient themself, or the admin exporting for them."""

    type: RecipientType
    name: str


class InquiriesPart(msgspec.Struct, frozen=True, kw_only=True):
    case: CaseView
    disclosures: list[Disclosure]
    # Who of staff read the case's personal data in inquiries, and when (its audit log).
    staff_reads: list[StaffRead] = []


class LogisticsPart(msgspec.Struct, frozen=True, kw_only=True):
    bookings: list[ExportedBooking]
    disclosures: list[Disclosure]
    # Who of staff read the bookings' details in logistics, and when.
    staff_reads: list[StaffRead] = []


class SupportPart(msgspec.Struct, frozen=True, kw_only=True):
    # The inquiry's support cases: timeline and thread (what the patient and the desk wrote).
    cases: list[ExportedSupportCase]
    # Who of support's staff read those cases, and when.
    staff_reads: list[StaffRead] = []


class NotificationsPart(msgspec.Struct, frozen=True, kw_only=True):
    # Every message written to the patient about the case, and how its delivery ended.
    notifications: list[ExportedNotification]


class CaseDocument(msgspec.Struct, frozen=True, kw_only=True):
    """Everything Carebridge keeps about one case, by service; each disclosure log ends with
    what was sent before this export (inquiries' includes this export itself)."""

    inquiry_id: uuid.UUID
    exported_at: datetime
    recipient: Recipient
    inquiries: InquiriesPart
    logistics: LogisticsPart
    support: SupportPart
    notifications: NotificationsPart


async def export_case(
    pool: Pool,
    bus: Bus,
    exporter: Exporter,
    inquiry_id: uuid.UUID,
    *,
    recipient: Recipient,
    reference: str | None,
    now: datetime,
) -> CaseDocument:
    """`reference` ties the disclosure to the request that made it (its request id)."""
    case = await casework.case_view(pool, exporter.keys, inquiry_id)
    logistics, support, notifications = await _other_parts(bus, exporter.timeout, inquiry_id)
    document = CaseDocument(
        inquiry_id=inquiry_id,
        exported_at=now,
        recipient=recipient,
        inquiries=InquiriesPart(case=case, disclosures=[]),
        logistics=LogisticsPart(bookings=list(logistics.bookings), disclosures=[]),
        support=SupportPart(cases=list(support.cases), staff_reads=list(support.staff_reads)),
        notifications=NotificationsPart(notifications=list(notifications.notifications)),
    )
    # The fields are those of the document while its disclosure logs are still empty: the
    # personal data it carries, not the record of where that data went.
    fields = disclosures.carried_fields(document)
    async with transaction(pool) as conn:
        await disclosures.record(
            conn,
            inquiry_id=str(inquiry_id),
            kind="access_export",
            recipient_type=recipient.type,
            recipient=recipient.name,
            fields=fields,
            reference=reference,
            at=now,
        )
        logged = await disclosures.of_case(conn, str(inquiry_id))
        read = await audit.reads_of_case(conn, str(inquiry_id))
    return msgspec.structs.replace(
        document,
        inquiries=InquiriesPart(case=case, disclosures=logged, staff_reads=read),
        logistics=LogisticsPart(
            bookings=list(logistics.bookings),
            disclosures=list(logistics.disclosures),
            staff_reads=list(logistics.staff_reads),
        ),
    )


async def _other_parts(
    bus: Bus, timeout: float, inquiry_id: uuid.UUID
) -> tuple[CaseExport, SupportCaseExport, NotificationsCaseExport]:
    """Every other service's part, asked at once: the export waits for the slowest, never for
    their sum. Any part missing fails the whole export, naming every service that failed."""
    request = CaseExportRequest(inquiry_id=str(inquiry_id))
    logistics, support, notifications = await asyncio.gather(
        _ask(bus, CASE_EXPORT, request, case_export_reply_decoder, timeout),
        _ask(bus, SUPPORT_CASE_EXPORT, request, support_case_export_reply_decoder, timeout),
        _ask(
            bus,
            NOTIFICATIONS_CASE_EXPORT,
            request,
            notifications_case_export_reply_decoder,
            timeout,
        ),
    )
    if (
        isinstance(logistics, CaseExport)
        and isinstance(support, SupportCaseExport)
        and isinstance(notifications, NotificationsCaseExport)
    ):
        return logistics, support, notifications
    failures = [p for p in (logistics, support, notifications) if isinstance(p, str)]
    raise _unavailable("; ".join(failures))


async def _ask(
    bus: Bus,
    channel: RequestChannel,
    request: CaseExportRequest,
    decoder: msgspec.json.Decoder[P | CaseExportFailed],
    timeout: float,
) -> P | str:
    """The service's part, or why it is missing."""
    try:
        reply = await ask(bus, channel, request, decoder, timeout=timeout)
    except NoAnswer as exc:
        return str(exc)
    if isinstance(reply, CaseExportFailed):
        return f"{channel.responder} could not export its part: {reply.reason}"
    return reply


def _unavailable(why: str) -> Unavailable:
    return Unavailable(f"{why}; nothing was exported, try again", retry_after=RETRY_AFTER)
