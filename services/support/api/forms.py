"""What the support routes accept: each body a Form, every problem told at once (400)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from contracts.envelope import AwareDatetime
from contracts.support import Category, Priority, StaffEmail
from services.runtime.http.validation import Form

Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Person = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
# Shifts in one PUT of the rota: a month of three shifts a day for a few agents.
MAX_SHIFTS = 1000


class PatientCaseForm(Form, frozen=True, kw_only=True):
    inquiry_id: uuid.UUID
    category: Category
    priority: Priority = "normal"
    language: Language
    message: Text


class PhoneCaseForm(Form, frozen=True, kw_only=True):
    """A coordinator opens a case for a patient who called."""

    inquiry_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    category: Category
    priority: Priority = "normal"
    language: Language
    message: Text


class MessageForm(Form, frozen=True, kw_only=True):
    message: Text


class AgentForm(Form, frozen=True, kw_only=True):
    email: StaffEmail
    languages: Annotated[tuple[Language, ...], msgspec.Meta(max_length=20)] = ()
    time_zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "UTC"
    lead: bool = False


class ShiftForm(Form, frozen=True, kw_only=True):
    person: Person
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    position: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0


class RotaForm(Form, frozen=True, kw_only=True):
    """The rota of a period: the shifts starting in [starts_at, ends_at) are replaced."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    shifts: Annotated[tuple[ShiftForm, ...], msgspec.Meta(max_length=MAX_SHIFTS)]


class PolicyForm(Form, frozen=True, kw_only=True):
    acknowledge_within_seconds: Annotated[int, msgspec.Meta(ge=1, le=7 * 86400)]
    resolve_within_seconds: Annotated[int, msgspec.Meta(ge=1, le=90 * 86400)]
