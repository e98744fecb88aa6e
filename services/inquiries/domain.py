"""The case lifecycle as the trade runs it: which state may follow which, what each step must
satisfy, and which bookings it requests. Pure: no I/O, time comes in as an argument."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import get_args

from contracts.inquiries import InquiryStatus
from contracts.logistics import (
    BookingDetails,
    InterpreterDetails,
    ShipmentDetails,
    TransferDetails,
    Traveller,
)
from services.inquiries.forms import (
    Advance,
    Clinic,
    Confirmation,
    Discharge,
    OfferForm,
    TravelPlan,
)
from services.runtime.core.errors import Conflict, FieldProblem, IllegalTransition, Invalid

STATUSES: tuple[InquiryStatus, ...] = get_args(InquiryStatus)

TRANSITIONS: dict[InquiryStatus, tuple[InquiryStatus, ...]] = {
    "submitted": ("in_review", "declined", "cancelled"),
    "in_review": ("records_requested", "offer_sent", "declined", "cancelled"),
    "records_requested": ("in_review", "declined", "cancelled"),
    # A new offer version supersedes the last: offer_sent -> offer_sent.
    "offer_sent": ("offer_sent", "accepted", "in_review", "declined", "cancelled", "expired"),
    "accepted": ("confirmed", "cancelled"),
    "confirmed": ("in_treatment", "cancelled"),
    "in_treatment": ("discharged",),
    "discharged": ("completed",),
    # An expired offer can be reviewed again and a fresh one sent.
    "expired": ("in_review", "cancelled"),
    "completed": (),
    "declined": (),
    "cancelled": (),
}
TERMINAL: frozenset[InquiryStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


def check_transition(current: InquiryStatus, target: InquiryStatus) -> None:
    """Raise IllegalTransition naming the allowed next states if `target` may not follow."""
    allowed = TRANSITIONS[current]
    if target not in allowed:
        detail = (
            f"an inquiry that is {current} cannot become {target}"
            if allowed
            else f"an inquiry that is {current} is closed"
        )
        raise IllegalTransition(detail, allowed=allowed)


def submission_problems(
    *,
    consent_given: bool,
    date_of_birth: date,
    preferred: tuple[date, date] | None,
    services: tuple[str, ...],
    condition_known: bool,
    today: date,
) -> list[FieldProblem]:
    """Every rule a well-formed submission can still break, at once."""
    problems = []
    if not consent_given:
        problems.append(
            FieldProblem(
                field="consent.health_data_processing",
                message="consent to process health data is required to arrange treatment",
            )
        )
    if date_of_birth >= today:
        problems.append(FieldProblem(field="patient.date_of_birth", message="must be in the past"))
    if preferred is not None:
        start, end = preferred
        if end < start:
            problems.append(FieldProblem(field="preferred_dates.to", message="is before from"))
        if start < today:
            problems.append(FieldProblem(field="preferred_dates.from", message="is in the past"))
    if len(set(services)) != len(services):
        problems.append(FieldProblem(field="services", message="a service is listed twice"))
    if not condition_known:
        problems.append(
            FieldProblem(field="condition_slug", message="no published condition has this slug")
        )
    return problems


# Steps that carry what they need in a request of their own, and the door each one has.
DEDICATED_STEPS: dict[InquiryStatus, str] = {
    "offer_sent": "POST /v1/coordinator/inquiries/{id}/offers",
    "accepted": "POST /v1/coordinator/inquiries/{id}/offers/{version}/accept",
    "confirmed": "POST /v1/coordinator/inquiries/{id}/confirmation",
    "discharged": "POST /v1/coordinator/inquiries/{id}/discharge",
    "expired": "the offer expiry job, when an offer's valid_until passes",
}


def check_plain_transition(current: InquiryStatus, target: InquiryStatus) -> None:
    """A transition without a payload: legal, and not one of the steps that need their own."""
    check_transition(current, target)
    if target in DEDICATED_STEPS:
        raise Invalid.single("to", f"{target} is reached through {DEDICATED_STEPS[target]}")


def check_processing_allowed(consents: Mapping[str, bool]) -> None:
    """Once the patient withdrew consent to process health data, the case moves no further."""
    if consents.get("health_data_processing") is False:
        raise Conflict(
            "the patient withdrew consent to process their health data; the case cannot move on"
        )


def check_partner_sharing(consents: Mapping[str, bool], bookings: Sequence[object]) -> None:
    if bookings and consents.get("partner_sharing") is False:
        raise Conflict(
            "the patient withdrew consent to share data with logistics partners, so no service "
            "can be booked; record the step without services to book"
        )


def offer_problems(offer: OfferForm, now: datetime) -> list[FieldProblem]:
    problems = []
    if offer.valid_until <= now:
        problems.append(FieldProblem(field="valid_until", message="must be in the future"))
    for i, programme in enumerate(offer.programmes):
        total = Decimal(programme.total)
        items = sum((Decimal(item.amount) for item in programme.items), Decimal("0.00"))
        if items != total:
            problems.append(
                FieldProblem(
                    field=f"programmes[{i}].total",
                    message=f"is {total} but the items add up to {items}",
                )
            )
        if Decimal(programme.advance) > total:
            problems.append(
                FieldProblem(field=f"programmes[{i}].advance", message="exceeds the total")
            )
    return problems


def confirmation_problems(confirmation: Confirmation, today: date) -> list[FieldProblem]:
    plan, payment = confirmation.plan, confirmation.payment
    problems = []
    if plan.discharge < plan.admission:
        problems.append(FieldProblem(field="plan.discharge", message="is before the admission"))
    if plan.arrival.scheduled_arrival.date() > plan.admission:
        problems.append(FieldProblem(field="plan.admission", message="is before the arrival"))
    if Decimal(payment.amount) <= 0:
        problems.append(FieldProblem(field="payment.amount", message="must be more than 0.00"))
    on, name = (
        (payment.paid_on, "paid_on")
        if isinstance(payment, Advance)
        else (payment.issued_on, "issued_on")
    )
    if on > today:
        problems.append(FieldProblem(field=f"payment.{name}", message="is in the future"))
    return problems


def discharge_problems(discharge: Discharge) -> list[FieldProblem]:
    problems = []
    flight = discharge.return_flight
    if flight is not None:
        if not flight.pickup_at < flight.at_airport_by < flight.departs_at:
            problems.append(
                FieldProblem(
                    field="return_flight",
                    message="pickup_at, at_airport_by and departs_at must follow one another",
                )
            )
        if flight.departs_at.date() < discharge.fit_to_fly:
            problems.append(
                FieldProblem(
                    field="return_flight.departs_at", message="is before the patient is fit to fly"
                )
            )
    if discharge.medication.items and discharge.home_address is None:
        problems.append(
            FieldProblem(field="home_address", message="is needed to ship the medication home")
        )
    return problems


def traveller(patient: Mapping[str, object]) -> Traveller:
    """Who a partner meets or serves: name, phone and language, nothing else."""
    phone, language = patient.get("phone"), patient.get("language")
    return Traveller(
        full_name=str(patient["full_name"]),
        phone=phone if isinstance(phone, str) else None,
        language=language if isinstance(language, str) else None,
    )


def arrival_bookings(plan: TravelPlan, patient: Traveller) -> tuple[BookingDetails, ...]:
    """One booking request per service in the plan, holding only what its partner needs."""
    bookings: list[BookingDetails] = []
    clinic = f"{plan.clinic.name}, {plan.clinic.address}"
    if (transfer := plan.services.transfer) is not None:
        bookings.append(
            TransferDetails(
                flight_number=plan.arrival.flight_number,
                airport=plan.arrival.airport,
                scheduled_arrival=plan.arrival.scheduled_arrival,
                passengers=transfer.passengers,
                luggage=transfer.luggage,
                mobility=transfer.mobility,
                meeting_point=transfer.meeting_point,
                pickup=f"{plan.arrival.airport} airport",
                dropoff=clinic,
                patient=patient,
                direction="arrival",
            )
        )
    if (interpreter := plan.services.interpreter) is not None:
        language = interpreter.language_from or patient.language
        if language is None:
            raise Invalid.single(
                "plan.services.interpreter.language_from", "is required: the patient named none"
            )
        bookings.append(
            InterpreterDetails(
                language_from=language,
                language_to=interpreter.language_to,
                specialty=interpreter.specialty,
                sessions=interpreter.sessions,
                patient=patient,
            )
        )
    return tuple(bookings)


def discharge_bookings(
    discharge: Discharge, clinic: Clinic, patient: Traveller
) -> tuple[BookingDetails, ...]:
    """The return transfer (clinic to airport) and the shipment of medication home."""
    bookings: list[BookingDetails] = []
    if (flight := discharge.return_flight) is not None:
        bookings.append(
            TransferDetails(
                flight_number=flight.flight_number,
                airport=flight.airport,
                scheduled_arrival=flight.at_airport_by,
                pickup_at=flight.pickup_at,
                passengers=flight.passengers,
                luggage=flight.luggage,
                mobility=flight.mobility,
                pickup=f"{clinic.name}, {clinic.address}",
                dropoff=f"{flight.airport} airport",
                patient=patient,
                direction="return",
            )
        )
    if discharge.medication.items and discharge.home_address is not None:
        bookings.append(
            ShipmentDetails(
                items=discharge.medication.items,
                cold_chain=discharge.medication.cold_chain,
                destination=discharge.home_address,
                patient=patient,
            )
        )
    return tuple(bookings)
