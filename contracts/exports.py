"""The patient's access and portability export (GDPR Art. 15 and 20) across services, and the
disclosure log every service keeps of personal data that left it.

Inquiries assembles the export; the bookings are logistics' own, the support cases support's and
the messages sent notifications', so inquiries asks each for its part on a core-NATS
request/reply subject (`rpc.<service>.case_export.v1`) instead of reading their tables. The
replies hold personal data: they travel only between the services, are not kept in a stream,
and are never logged."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from contracts.envelope import AwareDatetime, Event
from contracts.inquiries import ConsentBasis, InquiryId
from contracts.logistics import BookingDetails, BookingId, BookingKind, BookingStatus, Contract
from contracts.notifications import ContactChannel
from contracts.support import CaseId, Category, Priority

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
    """Inquiries asks a service (logistics, support, notifications) for everything it keeps
    about one case."""

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
    """The service asked could not answer the request (a malformed request, its database
    down)."""

    reason: Annotated[str, msgspec.Meta(max_length=500)]


CaseExportReply = CaseExport | CaseExportFailed
case_export_request_decoder = msgspec.json.Decoder(CaseExportRequest)
case_export_reply_decoder = msgspec.json.Decoder(CaseExportReply)

# Unbounded: what a service kept is exported whole, whatever its own door allowed then.
Text = str
Label = Annotated[str, msgspec.Meta(max_length=200)]


class ExportedSupportMessage(Contract, frozen=True, kw_only=True):
    """One message of a support case's thread, opened (it is sealed at rest)."""

    at: AwareDatetime
    author: Literal["patient", "agent", "partner", "system"]
    # The agent's name or the partner's id; null for the patient and the desk itself.
    author_name: Label | None
    body: Text


class ExportedSupportTimelineEntry(Contract, frozen=True, kw_only=True):
    at: AwareDatetime
    kind: Label
    person: Label | None
    detail: Text


class ExportedSupportCase(Contract, frozen=True, kw_only=True):
    """A support case of the inquiry as support keeps it. An erased case keeps its ids, kinds
    and times and has no thread left (`erased_at` says when it went)."""

    case_id: CaseId
    origin: Literal["patient", "coordinator", "partner", "system"]
    category: Category
    priority: Priority
    language: Label
    status: Literal["open", "acknowledged", "resolved"]
    booking_id: BookingId | None
    partner_id: Label | None
    assignee: Label | None
    opened_at: AwareDatetime
    acknowledged_at: AwareDatetime | None
    resolved_at: AwareDatetime | None
    erased_at: AwareDatetime | None
    timeline: tuple[ExportedSupportTimelineEntry, ...]
    thread: tuple[ExportedSupportMessage, ...]


class SupportCaseExport(Event, frozen=True, kw_only=True, tag="support_case_export"):
    """Support's part of a case's export: the inquiry's support cases with their threads and
    timelines, and who of support's staff read them (its audit log). No case is an empty
    part, not an error."""

    inquiry_id: InquiryId
    cases: tuple[ExportedSupportCase, ...]
    staff_reads: tuple[StaffRead, ...] = ()


SupportCaseExportReply = SupportCaseExport | CaseExportFailed
support_case_export_reply_decoder = msgspec.json.Decoder(SupportCaseExportReply)

NotificationParam = str | int | None


class ExportedNotification(Contract, frozen=True, kw_only=True):
    """A message notifications wrote to the patient about the case: what kind, on which
    channels it went out, how its delivery ended, what it said beyond its template (`params`,
    and the booking `details` it kept sealed), and the provider's answer to a failed attempt
    (kept sealed: it may quote the address). Notifications keeps no address and no language:
    it asks inquiries for them at each send, so they are not part of its export."""

    notification_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f-]{36}$")]
    kind: Label
    booking_id: BookingId | None
    status: Literal["pending", "sent", "failed", "cancelled"]
    channels: tuple[ContactChannel, ...]
    attempts: int
    created_at: AwareDatetime
    sent_at: AwareDatetime | None
    # Why the last attempt did not succeed, as a code ("smtp 451 4.7.1").
    last_error: Text | None
    params: dict[str, NotificationParam]
    details: dict[str, NotificationParam] | None
    provider_answer: Text | None


class NotificationsCaseExport(Event, frozen=True, kw_only=True, tag="notifications_case_export"):
    """Notifications' part of a case's export: every message to the patient about it, oldest
    first. None is an empty part, not an error."""

    inquiry_id: InquiryId
    notifications: tuple[ExportedNotification, ...]


NotificationsCaseExportReply = NotificationsCaseExport | CaseExportFailed
notifications_case_export_reply_decoder = msgspec.json.Decoder(NotificationsCaseExportReply)
