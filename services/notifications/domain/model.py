"""What notifications decides about: the kinds of message, a message planned for someone, and
the message composed for its recipient at the moment it is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

import msgspec

from contracts.notifications import Audience, ContactChannel

# Each kind is named once: the audiences' tuples are read off their Literals.
PatientKind = Literal[
    "inquiry_received",
    "records_requested",
    "offer_sent",
    "offer_expiring",
    "inquiry_confirmed",
    "booking_confirmed",
    "inquiry_discharged",
    "access_token_reissued",
    "transfer_arranged",
    "interpreter_arranged",
    "shipment_dispatched",
    "support_replied",
]
# to staff (the on-call address)
StaffKind = Literal[
    "booking_unassigned",
    "partner_incident",
    "notification_failed",
    "dead_letter_recorded",
    "support_case_escalated",
]
Kind = Literal[PatientKind, StaffKind]
PATIENT_KINDS: tuple[Kind, ...] = get_args(PatientKind)
STAFF_KINDS: tuple[Kind, ...] = get_args(StaffKind)
KINDS: tuple[Kind, ...] = PATIENT_KINDS + STAFF_KINDS

Status = Literal["pending", "sent", "failed", "cancelled"]

# What a template may say: ids, dates, a partner's company name, a booking's kind. Never a
# condition, diagnosis, description or treatment (email and SMS are not confidential), and no
# contact data: the address is asked for when the message is sent.
Param = str | int | None


class Planned(msgspec.Struct, frozen=True, kw_only=True):
    """A message to send at `send_after`. `key`, when set, names the one pending message of its
    kind a case may have (the offer reminder): a newer plan replaces the pending one."""

    kind: Kind
    audience: Audience
    inquiry_id: str | None = None
    booking_id: str | None = None
    params: dict[str, Param] = {}
    send_after: datetime
    key: str | None = None
    # What the patient needs to meet a booked service (the driver and their phone, the meeting
    # point, the tracking number): personal data, so sealed at rest, not in `params`.
    details: dict[str, Param] = {}


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """What a fact brings: messages to plan, and pending ones of a case to stop."""

    planned: tuple[Planned, ...] = ()
    # Pending messages of this case to cancel: by key, or all of them.
    cancel_keys: tuple[str, ...] = ()
    cancel_case: str | None = None
    # Erasure also empties the parameters of the case's messages already sent or failed.
    erase_case: bool = False


class Pending(msgspec.Struct, frozen=True, kw_only=True):
    """A message claimed for sending, as the store keeps it."""

    id: str
    kind: Kind
    audience: Audience
    inquiry_id: str | None
    booking_id: str | None
    params: dict[str, Param]
    attempts: int
    # `Planned.details`, as the store keeps them (sealed); opened by the sender.
    sealed_details: bytes | None = None
    # Channels that took it already: a retry sends only to the others.
    delivered: tuple[str, ...] = ()


class Recipient(msgspec.Struct, frozen=True, kw_only=True):
    """Where a message goes and in which language: asked of inquiries for a patient, the
    on-call address from the settings for staff."""

    address: str
    language: str
    channels: tuple[ContactChannel, ...] = ("email",)
    phone: str | None = None
    # A reissued access token, for the one message that carries it; held in memory only.
    access_token: str | None = None


class Composed(msgspec.Struct, frozen=True, kw_only=True):
    """A message ready to render and send."""

    notification_id: str
    kind: Kind
    channel: ContactChannel
    to: str
    language: str
    inquiry_id: str | None
    params: dict[str, Param]
