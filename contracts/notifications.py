"""Notifications: the contact a message goes to, asked of inquiries when a message is sent, and
the fact that a message could not be delivered.

The contact travels only on a core-NATS request/reply subject (`rpc.inquiries.contact.v1`):
events keep carrying pseudonymous ids, so no stream ever holds an address, and an erased case
or a withdrawn consent answers `ContactUnavailable`, which stops every message still pending."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from contracts.envelope import AwareDatetime, Event
from contracts.inquiries import InquiryId

ContactChannel = Literal["email", "sms"]
Audience = Literal["patient", "staff"]


class ContactRequest(Event, frozen=True, kw_only=True, tag="contact_request"):
    """Notifications asks inquiries where and in which language to reach a case's patient;
    naming a token reissue (`AccessTokenReissued.reissue_id`) also asks for that new token."""

    inquiry_id: InquiryId
    token_reissue_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f-]{36}$")] | None = None


class Contact(Event, frozen=True, kw_only=True, tag="contact"):
    """The patient's contact as given at submission, and the channels they agreed to be reached
    on. Personal data: never stored in a stream, never logged."""

    inquiry_id: InquiryId
    email: Annotated[str, msgspec.Meta(max_length=254)]
    phone: str | None = None
    language: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]
    channels: tuple[ContactChannel, ...] = ("email",)
    # The reissued access token the request named, while it is the case's current one and
    # fresh; None otherwise (then the message that would carry it is cancelled). A secret: it
    # travels only in this reply, never in a stream, a log line or notifications' tables.
    access_token: str | None = None


class ContactUnavailable(Event, frozen=True, kw_only=True, tag="contact_unavailable"):
    """There is nobody to write to: the case is unknown, its personal data was erased, or the
    patient withdrew the consent the case is processed under."""

    inquiry_id: InquiryId
    reason: Literal["unknown", "erased", "withdrawn"]


class ContactLookupFailed(Event, frozen=True, kw_only=True, tag="contact_lookup_failed"):
    """Inquiries could not answer (a malformed request, its database down): ask again later."""

    reason: Annotated[str, msgspec.Meta(max_length=500)]


ContactReply = Contact | ContactUnavailable | ContactLookupFailed
contact_request_decoder = msgspec.json.Decoder(ContactRequest)
contact_reply_decoder = msgspec.json.Decoder(ContactReply)


class NotificationFailed(Event, frozen=True, kw_only=True, tag="notification_failed"):
    """A message could not be delivered for good (the provider refused it permanently, or its
    retries ran out): staff must reach the person another way. Ids only, never the address."""

    notification_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f-]{36}$")]
    kind: Annotated[str, msgspec.Meta(max_length=60)]
    audience: Audience
    channel: ContactChannel
    inquiry_id: str | None = None
    booking_id: str | None = None
    attempts: Annotated[int, msgspec.Meta(ge=1)]
    reason: Annotated[str, msgspec.Meta(max_length=500)]
    failed_at: AwareDatetime


NotificationEvent = NotificationFailed
notification_event_decoder = msgspec.json.Decoder(NotificationEvent)
