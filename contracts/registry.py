"""Which message travels on which subject, in which stream. The source of `make contracts` and of
stream provisioning: a subject not listed here is not part of the system."""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from contracts.content import ContentPublished, ContentUnpublished
from contracts.envelope import Event
from contracts.exports import (
    CaseExport,
    CaseExportFailed,
    CaseExportRequest,
    NotificationsCaseExport,
    SupportCaseExport,
)
from contracts.inquiries import (
    AccessTokenReissued,
    BookingsReleased,
    ConsentWithdrawn,
    InquiryCancelled,
    InquiryConfirmed,
    InquiryDischarged,
    InquiryOfferSent,
    InquiryStatusChanged,
    InquirySubmitted,
    PersonalDataErased,
)
from contracts.logistics import (
    BookingCreated,
    BookingStatusChanged,
    InterpreterRequestAnswered,
    OperatorAlert,
    PartnerSupportRequested,
)
from contracts.notifications import (
    Contact,
    ContactLookupFailed,
    ContactRequest,
    ContactUnavailable,
    NotificationFailed,
)
from contracts.operations import DeadLetterRecorded
from contracts.partners import (
    DataErasureRequested,
    IncidentReported,
    Offer,
    OfferAccepted,
    OfferDeclined,
    OfferWithdrawn,
    StatusUpdate,
    SupportRequest,
)
from contracts.support import (
    CaseEscalated,
    CaseReplied,
    InterpreterRequested,
    TokenChecked,
    TokenCheckFailed,
    TokenCheckRequest,
)

_PARAM = re.compile(r"\{(\w+)\}")


class StreamSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A JetStream stream. Durability settings are chosen in one place, for every stream."""

    name: str
    subjects: tuple[str, ...]
    description: str
    # Long enough for a partner offline over a holiday to come back to its offers; short enough
    # that copies of personal data in offers and booking events do not outlive their purpose.
    # PostgreSQL is the record: nothing is lost when a message ages out, only its copy.
    max_age_seconds: float = 30 * 24 * 3600
    # Longer than the outbox relay's retry horizon: a relay that published and then lost its
    # database commit re-publishes when PostgreSQL is back (a failover takes seconds to a
    # minute, the relay's backoff is capped at 5 s), inside the window, and JetStream drops the
    # copy. A re-publish later than this is still dropped by the consumers' inbox.
    duplicate_window_seconds: float = 15 * 60
    # NATS's default max_payload: no event we publish comes near it (they carry ids and the
    # least personal data a job needs), and a stream never stores a larger message even if an
    # operator raises max_payload for the server; a partner cannot flood PARTNERS with one.
    max_message_bytes: int = 1024 * 1024
    # Deleting single messages is how a person's data could leave a stream before max_age, so
    # it stays possible where events name people; a stream of public facts refuses it.
    # One-way at the server, as is deny_purge: once denied, a stream cannot allow it again.
    deny_delete: bool = False
    # A purge drops offers and replies nobody has consumed yet: no operation of ours needs it.
    deny_purge: bool = True


_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


class Parameter(msgspec.Struct, frozen=True, kw_only=True):
    description: str
    enum: tuple[str, ...] = ()
    pattern: str | None = None

    def check(self, name: str, value: str) -> None:
        if not _TOKEN.match(value):
            raise ValueError(f"{name}={value!r} is not a single subject token")
        if self.enum and value not in self.enum:
            raise ValueError(f"{name}={value!r} is not one of {', '.join(self.enum)}")
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise ValueError(f"{name}={value!r} does not match {self.pattern}")


class Channel(msgspec.Struct, frozen=True, kw_only=True):
    """One subject (possibly with `{parameters}`) and the messages that travel on it."""

    address: str
    stream: str
    messages: tuple[type[Event], ...]
    description: str
    # Seen from Carebridge: "send" = we publish here, "receive" = we consume from here.
    action: Literal["send", "receive"] = "send"
    parameters: dict[str, Parameter] = {}

    def subject(self, **params: str) -> str:
        """The concrete subject; refuses values that would leave the channel (dots, wildcards)
        or that its parameters do not allow."""
        names = set(_PARAM.findall(self.address))
        if names != params.keys():
            raise ValueError(f"{self.address} takes parameters {sorted(names)}")
        for name, value in params.items():
            self.parameters[name].check(name, value)
        return self.address.format(**params)

    @property
    def filter_subject(self) -> str:
        """The subject filter that matches every concrete subject of this channel."""
        return _PARAM.sub("*", self.address)


CONTENT_KIND = Parameter(
    description="Kind of content document", enum=("condition", "treatment", "service")
)

STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(
        name="CONTENT",
        subjects=("content.>",),
        description="Facts about published content, for caches and catalogues",
        deny_delete=True,
    ),
    StreamSpec(
        name="INQUIRIES",
        subjects=("inquiries.>",),
        description="The lifecycle of patient inquiries, by pseudonymous inquiry id",
    ),
    StreamSpec(
        name="LOGISTICS",
        subjects=("logistics.>",),
        description="Bookings and their progress, and alerts for operators",
    ),
    StreamSpec(
        name="PARTNERS",
        subjects=("partners.*.offers.>",),
        description=(
            "Offers to partners, kept so a partner that was offline gets its offers when it returns"
        ),
    ),
    # After PARTNERS: provisioning an existing deployment first narrows PARTNERS (which once
    # held `partners.>`) and only then creates this stream, whose subjects would overlap.
    StreamSpec(
        name="PARTNER_REPLIES",
        subjects=("partners.*.replies",),
        description=(
            "Partners' replies, kept so none is lost while logistics is down; deduplicated by "
            "logistics' inbox, per partner (subject and ce-id), not by the stream"
        ),
        # A stream's duplicate window is one map of Nats-Msg-Id for every publisher, which
        # partners choose: with the outbox's 15 minutes, one partner publishing another's id
        # first had the other's reply dropped. The server's smallest window (100 ms; it refuses
        # 0 as "use the default") leaves a partner that guesses another's id 100 ms to be
        # first: docs/decisions/0005-partner-replies-stream.md.
        duplicate_window_seconds=0.1,
    ),
    StreamSpec(
        name="SUPPORT",
        subjects=("support.>",),
        description="Support cases escalated to people, and interpreters asked for",
    ),
    StreamSpec(
        name="NOTIFICATIONS",
        subjects=("notifications.>",),
        description="Messages to patients and staff that could not be delivered",
    ),
)

CONTENT_PUBLISHED = Channel(
    address="content.{kind}.published.v1",
    stream="CONTENT",
    messages=(ContentPublished,),
    description="A content document was published (first time, new revision or renamed slug).",
    parameters={"kind": CONTENT_KIND},
)
CONTENT_UNPUBLISHED = Channel(
    address="content.{kind}.unpublished.v1",
    stream="CONTENT",
    messages=(ContentUnpublished,),
    description="A content document was taken down.",
    parameters={"kind": CONTENT_KIND},
)

INQUIRY_SUBMITTED = Channel(
    address="inquiries.inquiry.submitted.v1",
    stream="INQUIRIES",
    messages=(InquirySubmitted,),
    description="A patient submitted an inquiry through a third-party site.",
)
INQUIRY_STATUS_CHANGED = Channel(
    address="inquiries.inquiry.status_changed.v1",
    stream="INQUIRIES",
    messages=(InquiryStatusChanged,),
    description="An inquiry moved to another state of its lifecycle.",
)

INQUIRY_OFFER_SENT = Channel(
    address="inquiries.inquiry.offer_sent.v1",
    stream="INQUIRIES",
    messages=(InquiryOfferSent,),
    description="A treatment offer with a cost estimate went to the patient.",
)
INQUIRY_CONFIRMED = Channel(
    address="inquiries.inquiry.confirmed.v1",
    stream="INQUIRIES",
    messages=(InquiryConfirmed,),
    description=(
        "The advance is paid and the trip planned; carries one booking request per service, "
        "with what its partner needs and nothing medical."
    ),
)
INQUIRY_DISCHARGED = Channel(
    address="inquiries.inquiry.discharged.v1",
    stream="INQUIRIES",
    messages=(InquiryDischarged,),
    description="The patient was discharged: return transfer and medicine shipment to book.",
)
INQUIRY_BOOKINGS_RELEASED = Channel(
    address="inquiries.inquiry.bookings_released.v1",
    stream="INQUIRIES",
    messages=(BookingsReleased,),
    description=(
        "Booking requests that waited for the patient's consent to partner sharing, sent once "
        "it is given; book them as the step's own event would have."
    ),
)
INQUIRY_CANCELLED = Channel(
    address="inquiries.inquiry.cancelled.v1",
    stream="INQUIRIES",
    messages=(InquiryCancelled,),
    description="The case was cancelled: its open bookings must be cancelled.",
)
INQUIRY_CONSENT_WITHDRAWN = Channel(
    address="inquiries.inquiry.consent_withdrawn.v1",
    stream="INQUIRIES",
    messages=(ConsentWithdrawn,),
    description="The patient withdrew a consent; processing for that purpose stops.",
)
INQUIRY_ERASED = Channel(
    address="inquiries.inquiry.erased.v1",
    stream="INQUIRIES",
    messages=(PersonalDataErased,),
    description="The patient's personal data was erased; every service wipes its copies.",
)
INQUIRY_TOKEN_REISSUED = Channel(
    address="inquiries.inquiry.access_token_reissued.v1",
    stream="INQUIRIES",
    messages=(AccessTokenReissued,),
    description=(
        "The patient recovered their access with the email on file: a new access token replaced "
        "the old one and must be sent to that address (the token is not in the event)."
    ),
)

BOOKING_CREATED = Channel(
    address="logistics.booking.created.v1",
    stream="LOGISTICS",
    messages=(BookingCreated,),
    description="A booking was created and will be offered to partners.",
)
BOOKING_STATUS_CHANGED = Channel(
    address="logistics.booking.status_changed.v1",
    stream="LOGISTICS",
    messages=(BookingStatusChanged,),
    description="A booking moved to another state (offered, confirmed, completed, ...).",
)
OPERATOR_ALERT = Channel(
    address="logistics.alert.raised.v1",
    stream="LOGISTICS",
    messages=(OperatorAlert,),
    description="An operator must act: no partner left for a booking, or a partner incident.",
)
PARTNER_SUPPORT_REQUESTED = Channel(
    address="logistics.support.requested.v1",
    stream="LOGISTICS",
    messages=(PartnerSupportRequested,),
    description=(
        "A partner asked the support desk for help about a booking it holds (its "
        "`support_request` reply): support opens a case linked to the booking."
    ),
)
INTERPRETER_REQUEST_ANSWERED = Channel(
    address="logistics.interpreter_request.answered.v1",
    stream="LOGISTICS",
    messages=(InterpreterRequestAnswered,),
    description=(
        "Logistics' answer to a support case's request for an interpreter by phone: booked "
        "(the partner and the session's time), unavailable (no interpreter partner left), or "
        "refused (no inquiry, or no consent to sharing with partners): support puts it on the "
        "case's timeline."
    ),
)

SUPPORT_CASE_ESCALATED = Channel(
    address="support.case.escalated.v1",
    stream="SUPPORT",
    messages=(CaseEscalated,),
    description=(
        "A support case was not acknowledged in time and now waits on the next agent on call, "
        "or the lead: notifications mails that person."
    ),
)
SUPPORT_INTERPRETER_REQUESTED = Channel(
    address="support.interpreter.requested.v1",
    stream="SUPPORT",
    messages=(InterpreterRequested,),
    description=(
        "Nobody on call speaks a case's language: an interpreter is asked to join by phone."
    ),
)
SUPPORT_CASE_REPLIED = Channel(
    address="support.case.replied.v1",
    stream="SUPPORT",
    messages=(CaseReplied,),
    description=(
        "An agent replied in a case the patient follows (opened by them, or for them by a "
        "coordinator, and linked to their inquiry): notifications tells the patient to read it "
        "with their access token. Never the reply's text."
    ),
)

NOTIFICATION_FAILED = Channel(
    address="notifications.notification.failed.v1",
    stream="NOTIFICATIONS",
    messages=(NotificationFailed,),
    description=(
        "A message to a patient or to staff could not be delivered for good (a permanent "
        "refusal, or retries exhausted): staff must reach the person another way."
    ),
)


def _dead_letters(service: str, stream: str) -> Channel:
    return Channel(
        address=f"{service}.dead_letter.recorded.v1",
        stream=stream,
        messages=(DeadLetterRecorded,),
        description=(
            f"A message {service} could not apply was set aside in its dead-letter store: "
            "on-call must look (the service's `/admin/dead-letters`), fix the cause, replay it."
        ),
    )


# Each service announces its dead letters on its own stream (its outbox publishes nowhere else).
DEAD_LETTERS_RECORDED: dict[str, Channel] = {
    "content": _dead_letters("content", "CONTENT"),
    "inquiries": _dead_letters("inquiries", "INQUIRIES"),
    "logistics": _dead_letters("logistics", "LOGISTICS"),
    "support": _dead_letters("support", "SUPPORT"),
    "notifications": _dead_letters("notifications", "NOTIFICATIONS"),
}

PARTNER_ID = Parameter(
    description="The partner's id in the partner registry",
    pattern=r"[a-z0-9]+(-[a-z0-9]+)*",
)
# Ids a partner cannot take. A partner's id is its NATS user name, and a server's user names are
# one space: a partner named like a service or the admin would make the server refuse its config
# (duplicate user) at the next start. Also the services to come and names an operator reads as
# Carebridge's own, so a partner's messages never pass for ours.
RESERVED_PARTNER_IDS = frozenset(
    {
        "content",
        "inquiries",
        "logistics",
        "support",
        "notifications",
        "console",
        "partner",
        "partners",
        "carebridge",
        "carebridge-admin",
        "admin",
        "operator",
        "system",
        "sys",
        "nats",
        "stack",
    }
)
PARTNER_OFFERS = Channel(
    address="partners.{partner_id}.offers.{kind}",
    stream="PARTNERS",
    messages=(Offer, OfferWithdrawn, DataErasureRequested),
    description=(
        "Offers to one partner, withdrawals of earlier ones, and requests to erase what an "
        "offer told about a traveller. Subscribe through your own durable consumer; accept or "
        "decline before `respond_by`. An offer's details hold only the fields its kind's job "
        "needs (a driver gets the traveller's phone, an interpreter or a courier does not): the "
        "others arrive empty. When the traveller is erased, the offers and the replies that "
        "mention the booking are deleted from the stream. A partner registered with a webhook "
        'channel (`"channel": {"type": "webhook", "url": "https://…"}`) is sent the same '
        "messages, the same JSON body, as Standard Webhooks: an HTTP POST to its URL with "
        "`webhook-id` (the message's `ce-id`), `webhook-timestamp` and `webhook-signature` "
        "(HMAC-SHA256 with its `whsec_…` secret; during a rotation one signature per valid "
        "secret, space-separated), retried with backoff until `respond_by` on a non-2xx answer."
    ),
    parameters={
        "partner_id": PARTNER_ID,
        "kind": Parameter(
            description="Kind of booking", enum=("transfer", "interpreter", "shipment")
        ),
    },
)
PARTNER_REPLIES = Channel(
    address="partners.{partner_id}.replies",
    stream="PARTNER_REPLIES",
    messages=(OfferAccepted, OfferDeclined, StatusUpdate, IncidentReported, SupportRequest),
    action="receive",
    description=(
        "A partner's answers: accept or decline an offer, then report progress of the booking; "
        "a data breach touching what Carebridge sent; and a request for the support desk about "
        "a booking it holds (`support_request`). A reply for an offer or booking the "
        "partner does not hold changes nothing. Replies are stored in a stream of their own whose "
        "duplicate window is 100 ms, the server's least; Carebridge deduplicates them by subject "
        "and `ce-id`, so a retry with the same `ce-id` counts once, and no other partner's "
        "message can spend your `ce-id`. Set `Nats-Msg-Id` to `<partner_id>:<ce-id>`. Replies "
        "past the per-partner limit (PARTNER_REPLY_RATE_LIMIT a minute) wait and are applied "
        "later. A webhook partner sends the same messages as the body of `POST /v1/partner/"
        "replies` on logistics (`Authorization: Bearer <its token>`), applied at once under the "
        "same rules; `GET /v1/partner/offers` lists the offers it still holds."
    ),
    parameters={"partner_id": PARTNER_ID},
)

CHANNELS: tuple[Channel, ...] = (
    CONTENT_PUBLISHED,
    CONTENT_UNPUBLISHED,
    INQUIRY_SUBMITTED,
    INQUIRY_STATUS_CHANGED,
    INQUIRY_OFFER_SENT,
    INQUIRY_CONFIRMED,
    INQUIRY_DISCHARGED,
    INQUIRY_BOOKINGS_RELEASED,
    INQUIRY_CANCELLED,
    INQUIRY_CONSENT_WITHDRAWN,
    INQUIRY_ERASED,
    INQUIRY_TOKEN_REISSUED,
    BOOKING_CREATED,
    BOOKING_STATUS_CHANGED,
    OPERATOR_ALERT,
    PARTNER_SUPPORT_REQUESTED,
    INTERPRETER_REQUEST_ANSWERED,
    SUPPORT_CASE_ESCALATED,
    SUPPORT_INTERPRETER_REQUESTED,
    SUPPORT_CASE_REPLIED,
    NOTIFICATION_FAILED,
    *DEAD_LETTERS_RECORDED.values(),
    PARTNER_OFFERS,
    PARTNER_REPLIES,
)


class RequestChannel(msgspec.Struct, frozen=True, kw_only=True):
    """A core-NATS request/reply subject between services, for a question that needs an answer
    now (the export a person waits for) rather than a fact to keep. It lies outside every
    stream: a stream capturing it would store the request and answer it with its own publish
    acknowledgement before the responder could. One queue group of `responder` answers."""

    address: str
    request: type[Event]
    replies: tuple[type[Event], ...]
    responder: str
    requesters: tuple[str, ...]
    description: str

    @property
    def queue(self) -> str:
        """The responder's queue group: each request goes to one of its replicas."""
        return self.responder


CASE_EXPORT = RequestChannel(
    address="rpc.logistics.case_export.v1",
    request=CaseExportRequest,
    replies=(CaseExport, CaseExportFailed),
    responder="logistics",
    requesters=("inquiries",),
    description=(
        "Inquiries asks logistics for its part of a case's access and portability export: the "
        "bookings with their details decrypted and history, and logistics' disclosure log."
    ),
)

CONTACT = RequestChannel(
    address="rpc.inquiries.contact.v1",
    request=ContactRequest,
    replies=(Contact, ContactUnavailable, ContactLookupFailed),
    responder="inquiries",
    requesters=("notifications",),
    description=(
        "Notifications asks inquiries for a case's contact (email, phone, language, agreed "
        "channels) when it sends a message, so no stream holds an address; an erased case or a "
        "withdrawn consent answers that there is nobody to write to."
    ),
)

TOKEN_CHECK = RequestChannel(
    address="rpc.inquiries.token_check.v1",
    request=TokenCheckRequest,
    replies=(TokenChecked, TokenCheckFailed),
    responder="inquiries",
    requesters=("support",),
    description=(
        "Support asks inquiries whether a patient's access token opens their inquiry, before it "
        "opens or shows a support case to them. Carries the token's SHA-256 digest, never the "
        "token."
    ),
)

SUPPORT_CASE_EXPORT = RequestChannel(
    address="rpc.support.case_export.v1",
    request=CaseExportRequest,
    replies=(SupportCaseExport, CaseExportFailed),
    responder="support",
    requesters=("inquiries",),
    description=(
        "Inquiries asks support for its part of a case's access and portability export: the "
        "inquiry's support cases with their threads opened and timelines, and the staff reads "
        "of them from support's audit log."
    ),
)

NOTIFICATIONS_CASE_EXPORT = RequestChannel(
    address="rpc.notifications.case_export.v1",
    request=CaseExportRequest,
    replies=(NotificationsCaseExport, CaseExportFailed),
    responder="notifications",
    requesters=("inquiries",),
    description=(
        "Inquiries asks notifications for its part of a case's access and portability export: "
        "every message written to the patient about the case (kind, channels, delivery, what "
        "it said), with its sealed parts opened."
    ),
)

REQUEST_CHANNELS: tuple[RequestChannel, ...] = (
    CASE_EXPORT,
    SUPPORT_CASE_EXPORT,
    NOTIFICATIONS_CASE_EXPORT,
    CONTACT,
    TOKEN_CHECK,
)


def stream_named(name: str) -> StreamSpec:
    for spec in STREAMS:
        if spec.name == name:
            return spec
    raise KeyError(name)
