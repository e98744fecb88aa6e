"""What the support desk keeps: agents, shifts, response targets, cases with their timeline
and thread."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

from contracts.support import Category, Priority

Origin = Literal["patient", "coordinator", "partner", "system"]
Status = Literal["open", "acknowledged", "resolved"]
Author = Literal["patient", "agent", "partner", "system"]
TimelineKind = Literal[
    "opened",
    "assigned",
    "auto_answered",
    "interpreter_requested",
    # Logistics' answer to that request.
    "interpreter_booked",
    "interpreter_unavailable",
    "interpreter_not_booked",
    "escalated",
    "unescalated",
    "acknowledged",
    "message",
    "resolved",
    "erased",
]


class Agent(msgspec.Struct, frozen=True, kw_only=True):
    person: str
    email: str
    languages: tuple[str, ...] = ()
    time_zone: str = "UTC"
    lead: bool = False


class Shift(msgspec.Struct, frozen=True, kw_only=True):
    person: str
    starts_at: datetime
    ends_at: datetime
    # Lower first among the people on call at one moment: the first takes new cases.
    position: int = 0


class OnCall(msgspec.Struct, frozen=True, kw_only=True):
    """An agent on call now, with the shift that puts them there."""

    agent: Agent
    shift_ends_at: datetime
    position: int


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    priority: Priority
    acknowledge_within_seconds: int
    resolve_within_seconds: int


class NewCase(msgspec.Struct, frozen=True, kw_only=True):
    """A case to open, from whichever door."""

    origin: Origin
    category: Category
    priority: Priority
    language: str
    message: str
    inquiry_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    partner_id: str | None = None
    # Who wrote the first message: the patient, the coordinator on the phone, the partner.
    author: Author = "patient"
    author_name: str | None = None


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    kind: TimelineKind
    person: str | None = None
    detail: str = ""


class Message(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    at: datetime
    author: Author
    author_name: str | None
    body: str


class Case(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    origin: Origin
    inquiry_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    partner_id: str | None
    category: Category
    priority: Priority
    language: str
    status: Status
    assignee: str | None
    escalate_at: datetime | None
    resolve_by: datetime
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    acknowledge_breached: bool
    resolve_breached: bool
    erased_at: datetime | None


class CaseView(msgspec.Struct, frozen=True, kw_only=True):
    """A case as its reader sees it: the case, what happened, and the thread."""

    id: uuid.UUID
    status: Status
    category: Category
    priority: Priority
    language: str
    origin: Origin
    inquiry_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    assignee: str | None
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    timeline: list[TimelineEntry]
    messages: list[Message]
