"""What the booking decisions work on and what they return: the state loaded before a decision,
and the change it leaves to save. Plain Structs; the store reads and writes them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import msgspec

from contracts.envelope import Event
from contracts.logistics import Arrangement, BookingDetails, BookingKind, BookingStatus

OfferState = str  # open, accepted, declined, expired, withdrawn

# What a partner must be able to do beyond its kind, e.g. carry a patient lying down.
Capability = Literal["ambulance", "informed_consent", "cold_chain"]


class Booking(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    inquiry_id: str | None
    kind: BookingKind
    status: BookingStatus
    version: int
    details: BookingDetails
    partner_id: str | None
    progress: str | None
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None
    # What the partner reported for the patient (driver, interpreter, tracking); sealed at rest.
    arrangement: Arrangement | None = None
    # The support case it was booked for (an interpreter by phone): told how dispatch ended.
    support_case_id: str | None = None


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    entry: str
    status: BookingStatus
    partner_id: str | None
    detail: dict[str, Any]


class OfferRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    booking_id: uuid.UUID
    partner_id: str
    sent_at: datetime
    respond_by: datetime
    state: OfferState
    answered_at: datetime | None
    reason: str | None


class Coverage(msgspec.Struct, frozen=True, kw_only=True):
    airports: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()


class NatsChannel(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="nats"):
    """The partner fetches its offers from the PARTNERS stream and replies on its subject."""


class WebhookChannel(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="webhook"):
    """The partner is sent its offers as signed webhooks to `url` and replies over REST."""

    url: str


Channel = NatsChannel | WebhookChannel


class Partner(msgspec.Struct, frozen=True, kw_only=True):
    """A provider in the registry, as dispatch sees it, and how its messages reach it."""

    id: str
    name: str
    kinds: tuple[BookingKind, ...]
    coverage: Coverage
    languages: tuple[str, ...]
    capabilities: tuple[Capability, ...]
    priority: int
    active: bool
    channel: Channel = msgspec.field(default_factory=NatsChannel)


class BookingState(msgspec.Struct, frozen=True, kw_only=True):
    """A booking with everything a decision about it needs, loaded (and locked) up front: its
    offers, and the names of the partners they went to (an event names the booking's partner)."""

    booking: Booking
    offers: tuple[OfferRow, ...] = ()
    partner_names: dict[str, str] = msgspec.field(default_factory=dict)


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """An event for the outbox: its subject, and the erasure key when it names the traveller."""

    subject: str
    event: Event
    erasure_key: str | None = None


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """What a decision leaves to save, in one transaction and in this order of announcement."""

    # When it was decided: the time of every row it writes.
    at: datetime
    # None: the booking is new and `booking` is inserted as it stands.
    before: Booking | None
    booking: Booking
    # The traveller was wiped from the details: they are sealed anew and free text goes.
    erased: bool = False
    # Offers answered, expired or withdrawn, with their new state; and the one made, if any.
    closed: tuple[OfferRow, ...] = ()
    opened: OfferRow | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    messages: tuple[Message, ...] = ()

    @property
    def moved(self) -> bool:
        """The booking's state (status, partner, progress) changed: a new version to write."""
        return self.before is not None and self.booking.version != self.before.version
