"""The patient's access and portability export (GDPR Art. 15 and 20) across services, and the
disclosure log every service keeps of personal data that left it.

Inquiries assembles the export; the bookings are logistics' own, so inquiries asks for them on
a core-NATS request/reply subject (`rpc.logistics.case_export.v1`) instead of reading its
tables. The reply holds personal data: it travels only between the services, is not kept in a
stream, and is never logged."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from contracts.envelope import AwareDatetime, Event
from contracts.inquiries import ConsentBasis, InquiryId
from contracts.logistics import BookingDetails, BookingId, BookingKind, BookingStatus, Contract

# Why personal data left a service; the legal basis of each kind is kept in one place
# (services/runtime/privacy/disclosures.py), so every record of one kind names the same basis.
DisclosureKind = Literal["partner_offer", "booking_request", "access_export"]
# Who received it: a partner company, another Carebridge service, the patient themself, or a
# member of staff (an admin exporting on the patient's behalf).
RecipientType = Literal["partner", "service", "data_subject", "staff"]
FieldPath = Annotated[str, msgspec.Meta(max_length=200)]


class Disclosure(Contract, frozen=True, kw_only=True):
    """One disclosure: personal data of a case that left a service. `fields` names what was
    sent (dotted paths, `[]` for every item of a list), never the values."""

    kind: DisclosureKind
    recipient_type: RecipientType
    recipient: str
    fields: tuple[FieldPath, ...]
    legal_basis: str
    # What was sent: the offer id, the event id, the export's request id.
    reference: str | None = None
    disclosed_at: AwareDatetime
    # The consent record the disclosure relied on, when its basis is consent.
    consent: ConsentBasis | None = None


class ExportedTimelineEntry(Contract, frozen=True, kw_only=True):
    at: AwareDatetime
    entry: str
    status: BookingStatus
    partner_id: str | None
    detail: dict[str, Any]


class ExportedBooking(Contract, frozen=True, kw_only=True):
    """A booking of the case as logistics keeps it: the details decrypted, and its history."""

    booking_id: BookingId
    kind: BookingKind
    status: BookingStatus
    details: BookingDetails
    partner_id: str | None
    progress: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    erased_at: AwareDatetime | None
    timeline: tuple[ExportedTimelineEntry, ...]


class StaffRead(Contract, frozen=True, kw_only=True):
    """A member of staff read the case's decrypted personal or health data: who, through which
    route (its template, no ids), and when. From the service's audit log."""

    person: Annotated[str, msgspec.Meta(max_length=200)]
    route: Annotated[str, msgspec.Meta(max_length=500)]
    read_at: AwareDatetime


class CaseExportRequest(Event, frozen=True, kw_only=True, tag="case_export_request"):
    """Inquiries asks logistics for everything it keeps about one case."""

    inquiry_id: InquiryId


class CaseExport(Event, frozen=True, kw_only=True, tag="case_export"):
    """Logistics' part of a case's export: its bookings and its disclosure log. An unknown
    case is an empty part, not an error: logistics may simply have booked nothing for it."""

    inquiry_id: InquiryId
    bookings: tuple[ExportedBooking, ...]
    disclosures: tuple[Disclosure, ...]
    # Who of logistics' staff read the bookings' details (added within v1: empty from a
    # logistics that predates it).
    staff_reads: tuple[StaffRead, ...] = ()


class CaseExportFailed(Event, frozen=True, kw_only=True, tag="case_export_failed"):
    """Logistics could not answer the request (a malformed request, its database down)."""

    reason: Annotated[str, msgspec.Meta(max_length=500)]


CaseExportReply = CaseExport | CaseExportFailed
case_export_request_decoder = msgspec.json.Decoder(CaseExportRequest)
case_export_reply_decoder = msgspec.json.Decoder(CaseExportReply)
