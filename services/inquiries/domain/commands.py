"""What coordinators and patients send to move a case along; the confirmation, discharge and
offers are also what the case keeps, sealed.

Money is EUR as a decimal string with two decimals ("12500.00"), in requests, answers and the
encrypted records alike: exact, and readable by any client without float surprises."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from contracts.envelope import AwareDatetime
from contracts.inquiries import ConsentPurpose, InquiryStatus
from contracts.logistics import (
    Address,
    Iata,
    InterpreterSession,
    Language,
    MedicineItem,
    Specialty,
)
from services.inquiries.domain.intake import Email, Name, Phone, Text
from services.runtime.http.validation import SINGLE_LINE, Form

Line = Annotated[str, SINGLE_LINE, msgspec.Meta(min_length=1, max_length=300)]
Money = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(0|[1-9][0-9]{0,8})\.[0-9]{2}$",
        description='EUR with two decimals, e.g. "12500.00"',
    ),
]
FlightNumber = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{2}[0-9]{1,4}[A-Z]?$")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Mobility = Literal["none", "wheelchair", "stretcher"]


class Transition(Form, frozen=True, kw_only=True):
    """Move the case to `to`. Offers, acceptance, confirmation and discharge have their own
    requests, since they carry what the step needs. `reason` is told to the patient and, for a
    cancellation, to logistics: no health data in it."""

    to: InquiryStatus
    reason: Reason | None = None


class Assignment(Form, frozen=True, kw_only=True):
    """The coordinator in charge (a staff person), or null to unassign."""

    coordinator: Name | None


class NoteForm(Form, frozen=True, kw_only=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


# --- offers -------------------------------------------------------------------------------------


class CostItem(Form, frozen=True, kw_only=True):
    description: Line
    amount: Money


class Programme(Form, frozen=True, kw_only=True):
    """One treatment programme with its cost estimate; its items add up to its total."""

    title: Line
    clinic: Line
    physician: Line
    procedures: Annotated[tuple[Line, ...], msgspec.Meta(min_length=1, max_length=30)]
    length_of_stay_days: Annotated[int, msgspec.Meta(ge=1, le=365)]
    items: Annotated[tuple[CostItem, ...], msgspec.Meta(min_length=1, max_length=100)]
    total: Money
    advance: Money


class OfferForm(Form, frozen=True, kw_only=True):
    programmes: Annotated[tuple[Programme, ...], msgspec.Meta(min_length=1, max_length=10)]
    valid_until: AwareDatetime
    message: Text | None = None


# --- confirmation -------------------------------------------------------------------------------


class Payer(Form, frozen=True, kw_only=True):
    """Who pays or guarantees: personal data, stored encrypted."""

    relation: Literal["self", "relative", "employer", "embassy", "insurer", "other"]
    name: Name
    email: Email | None = None
    phone: Phone | None = None


class Advance(Form, frozen=True, kw_only=True, tag_field="kind", tag="advance"):
    amount: Money
    paid_on: date
    reference: Line
    payer: Payer


class Guarantee(Form, frozen=True, kw_only=True, tag_field="kind", tag="guarantee"):
    """A payer's written promise to pay (an embassy's or insurer's letter of guarantee)."""

    amount: Money
    issued_on: date
    reference: Line
    payer: Payer


Payment = Advance | Guarantee


class ArrivalFlight(Form, frozen=True, kw_only=True):
    flight_number: FlightNumber
    airport: Iata
    scheduled_arrival: AwareDatetime


class Clinic(Form, frozen=True, kw_only=True):
    name: Line
    address: Line


class TransferPlan(Form, frozen=True, kw_only=True):
    passengers: Annotated[int, msgspec.Meta(ge=1, le=8)] = 1
    luggage: Annotated[int, msgspec.Meta(ge=0, le=20)] = 0
    mobility: Mobility = "none"
    meeting_point: Line | None = None


class InterpreterPlan(Form, frozen=True, kw_only=True):
    """`language_from` defaults to the patient's preferred language."""

    language_from: Language | None = None
    language_to: Language = "de"
    specialty: Specialty
    sessions: Annotated[tuple[InterpreterSession, ...], msgspec.Meta(min_length=1, max_length=50)]


class ServicesPlan(Form, frozen=True, kw_only=True):
    """The services to book; support is ours and needs no booking."""

    transfer: TransferPlan | None = None
    interpreter: InterpreterPlan | None = None
    support: bool = False


class TravelPlan(Form, frozen=True, kw_only=True):
    arrival: ArrivalFlight
    clinic: Clinic
    admission: date
    discharge: date
    services: ServicesPlan


class Confirmation(Form, frozen=True, kw_only=True):
    payment: Payment
    plan: TravelPlan


# --- discharge ----------------------------------------------------------------------------------


class MedicationPlan(Form, frozen=True, kw_only=True):
    items: Annotated[tuple[MedicineItem, ...], msgspec.Meta(max_length=100)] = ()
    cold_chain: bool = False


class ReturnFlight(Form, frozen=True, kw_only=True):
    """The flight home, when to be at the airport and when to collect the patient."""

    flight_number: FlightNumber
    airport: Iata
    departs_at: AwareDatetime
    at_airport_by: AwareDatetime
    pickup_at: AwareDatetime
    passengers: Annotated[int, msgspec.Meta(ge=1, le=8)] = 1
    luggage: Annotated[int, msgspec.Meta(ge=0, le=20)] = 0
    mobility: Mobility = "none"


class Discharge(Form, frozen=True, kw_only=True):
    fit_to_fly: date
    medication: MedicationPlan
    return_flight: ReturnFlight | None = None
    home_address: Address | None = None


# --- consent ------------------------------------------------------------------------------------


class ConsentForm(Form, frozen=True, kw_only=True):
    """One purpose at a time: consents are never bundled."""

    purpose: ConsentPurpose
    granted: bool
    version: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
