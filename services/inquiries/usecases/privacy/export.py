"""The access and portability export of a case (GDPR Art. 15 and 20): one JSON document with
every personal datum every service keeps about it, every disclosure of it, and every staff read
of it (who and when, from each service's audit log).

Inquiries holds the case; logistics' bookings are asked for over `rpc.logistics.case_export.v1`
(inquiries never reads logistics' tables). Either the whole document or none: when logistics
does not answer, the export fails with a 503 and is not recorded as disclosed, because a partial
export would tell the patient, wrongly, that logistics holds nothing about them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import msgspec

from contracts.exports import (
    CaseExport,
    CaseExportRequest,
    Disclosure,
    ExportedBooking,
    RecipientType,
    StaffRead,
    case_export_reply_decoder,
)
from contracts.registry import CASE_EXPORT
from services.inquiries.domain.views import CaseView
from services.inquiries.usecases import casework
from services.runtime.access import audit
from services.runtime.core.db import Pool, transaction
from services.runtime.core.errors import Unavailable
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.request_reply import NoAnswer, ask
from services.runtime.privacy import disclosures
from services.runtime.privacy.crypto import KeyRing

# Seconds a client is told to wait before trying again when logistics did not answer.
RETRY_AFTER = 10


@dataclass(frozen=True)
class Exporter:
    """What an export needs beyond the runtime: the key ring, and how long logistics may take."""

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


class CaseDocument(msgspec.Struct, frozen=True, kw_only=True):
    """Everything Carebridge keeps about one case, by service; each disclosure log ends with
    what was sent before this export (inquiries' includes this export itself)."""

    inquiry_id: uuid.UUID
    exported_at: datetime
    recipient: Recipient
    inquiries: InquiriesPart
    logistics: LogisticsPart


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
    logistics = await _logistics_part(bus, exporter.timeout, inquiry_id)
    document = CaseDocument(
        inquiry_id=inquiry_id,
        exported_at=now,
        recipient=recipient,
        inquiries=InquiriesPart(case=case, disclosures=[]),
        logistics=LogisticsPart(bookings=list(logistics.bookings), disclosures=[]),
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


async def _logistics_part(bus: Bus, timeout: float, inquiry_id: uuid.UUID) -> CaseExport:
    try:
        reply = await ask(
            bus,
            CASE_EXPORT,
            CaseExportRequest(inquiry_id=str(inquiry_id)),
            case_export_reply_decoder,
            timeout=timeout,
        )
    except NoAnswer as exc:
        raise _unavailable(str(exc)) from None
    if not isinstance(reply, CaseExport):
        raise _unavailable(f"logistics could not export its part: {reply.reason}")
    return reply


def _unavailable(why: str) -> Unavailable:
    return Unavailable(f"{why}; nothing was exported, try again", retry_after=RETRY_AFTER)
