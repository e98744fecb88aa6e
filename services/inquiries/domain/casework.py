"""Casework: the coordinators' steps of a case (plain transitions, assignment, confirmation,
discharge), what each must satisfy and which bookings it requests, and which booking progress
the patient sees."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import msgspec

from contracts.inquiries import ConsentBasis, InquiryConfirmed, InquiryDischarged
from contracts.logistics import (
    BookingDetails,
    BookingStatus,
    BookingStatusChanged,
    InterpreterDetails,
    ShipmentDetails,
    TransferDetails,
    Traveller,
)
from contracts.registry import INQUIRY_CONFIRMED, INQUIRY_DISCHARGED
from services.inquiries.domain.commands import (
    Advance,
    Clinic,
    Confirmation,
    Discharge,
    Transition,
    TravelPlan,
)
from services.inquiries.domain.consent import HeldBookings, given, refusal, require
from services.inquiries.domain.lifecycle import (
    check_plain_transition,
    check_processing_allowed,
    check_transition,
    move,
    require_personal,
)
from services.inquiries.domain.model import (
    Announcement,
    Case,
    Change,
    PersonalData,
    TimelineEntry,
)
from services.runtime.core.errors import FieldProblem, Invalid, NotFound

# Where the booking requests of a confirmation or discharge go, for the disclosure log.
LOGISTICS = "logistics"
PATIENT_VISIBLE: frozenset[BookingStatus] = frozenset(
    {"confirmed", "in_progress", "completed", "cancelled"}
)


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


def transition(
    case: Case,
    consents: Mapping[str, bool],
    change: Transition,
    *,
    by: str,
    now: datetime,
) -> Change:
    """A step without a payload; the steps that carry one have their own decision."""
    check_processing_allowed(consents)
    check_plain_transition(case.status, change.to)
    if change.to == "in_review":
        require(consents, "review")
    return move(case, change.to, by=by, now=now, reason=change.reason)


def visible_to(assigned: str | None, viewer: str | None) -> bool:
    """Whether a case is in a coordinator's view: assigned to them, or unassigned (the queue
    they claim from). `viewer` None is a lead coordinator or an admin, who see every case."""
    return viewer is None or assigned is None or assigned == viewer


def assign(
    case: Case, coordinator: str | None, *, by: str, now: datetime, viewer: str | None = None
) -> Change:
    """The coordinator in charge, or None to unassign: a change of the case like any other.
    A coordinator who sees only their own cases (`viewer`) claims a case or releases it;
    giving it to someone else is a lead coordinator's call."""
    if viewer is not None and coordinator not in (None, viewer):
        raise Invalid.single(
            "coordinator",
            f"may be only yourself ({viewer}) or null: assigning a case to someone else needs "
            "the lead_coordinator role",
        )
    return Change(
        at=now,
        case=msgspec.structs.replace(case, coordinator=coordinator, version=case.version + 1),
        timeline=(
            TimelineEntry(at=now, kind="assigned", detail={"coordinator": coordinator, "by": by}),
        ),
    )


def confirm(
    case: Case,
    consents: Mapping[str, bool],
    confirmation: Confirmation,
    personal: PersonalData | None,
    *,
    by: str,
    now: datetime,
    sharing: ConsentBasis | None = None,
) -> Change:
    """The payment and the travel plan recorded: the case is confirmed and logistics is asked to
    book each planned service. `sharing`: the record of the patient's consent to partner
    sharing, which the booking requests carry on to the partner offers' disclosures."""
    check_processing_allowed(consents)
    check_transition(case.status, "confirmed")
    if problems := confirmation_problems(confirmation, now.date()):
        raise Invalid(problems)
    patient = traveller(require_personal(case.id, personal).patient)
    bookings, held = _sharable(
        consents, "confirmed", arrival_bookings(confirmation.plan, patient), now
    )
    moved = move(case, "confirmed", by=by, now=now)
    version = moved.case.version if moved.case else case.version
    return moved.then(
        _requesting_bookings(
            now,
            TimelineEntry(at=now, kind="confirmed", detail={"bookings": _kinds(bookings)}),
            Announcement(
                subject=INQUIRY_CONFIRMED.subject(),
                event=InquiryConfirmed(
                    inquiry_id=str(case.id),
                    version=version,
                    bookings=bookings,
                    confirmed_at=now,
                    sharing_consent=sharing if bookings else None,
                ),
                erasure_key=str(case.id),
                disclosed_to=LOGISTICS if bookings else None,
                relies_on="partner_sharing" if bookings else None,
            ),
        )
    ).then(held)


def discharge(
    case: Case,
    consents: Mapping[str, bool],
    record: Discharge,
    confirmation: Confirmation | None,
    personal: PersonalData | None,
    *,
    by: str,
    now: datetime,
    sharing: ConsentBasis | None = None,
) -> Change:
    """Fit to fly and medication recorded: the case is discharged and logistics is asked for
    the return transfer and the shipment of medication home."""
    check_processing_allowed(consents)
    check_transition(case.status, "discharged")
    if problems := discharge_problems(record):
        raise Invalid(problems)
    if confirmation is None:  # pragma: no cover - confirmed precedes in_treatment
        raise NotFound(f"inquiry {case.id} has no confirmation")
    patient = traveller(require_personal(case.id, personal).patient)
    bookings, held = _sharable(
        consents, "discharged", discharge_bookings(record, confirmation.plan.clinic, patient), now
    )
    moved = move(case, "discharged", by=by, now=now)
    version = moved.case.version if moved.case else case.version
    detail: dict[str, object] = {
        "fit_to_fly": record.fit_to_fly.isoformat(),
        "bookings": _kinds(bookings),
    }
    return moved.then(
        _requesting_bookings(
            now,
            TimelineEntry(at=now, kind="discharged", detail=detail),
            Announcement(
                subject=INQUIRY_DISCHARGED.subject(),
                event=InquiryDischarged(
                    inquiry_id=str(case.id),
                    version=version,
                    fit_to_fly=record.fit_to_fly,
                    bookings=bookings,
                    discharged_at=now,
                    sharing_consent=sharing if bookings else None,
                ),
                erasure_key=str(case.id),
                disclosed_to=LOGISTICS if bookings else None,
                relies_on="partner_sharing" if bookings else None,
            ),
        )
    ).then(held)


def _sharable(
    consents: Mapping[str, bool],
    step: Literal["confirmed", "discharged"],
    bookings: tuple[BookingDetails, ...],
    now: datetime,
) -> tuple[tuple[BookingDetails, ...], Change]:
    """The booking requests the step may send now, and (when the patient has not given consent
    to partner sharing) those it holds back instead, with the timeline entry saying why. The
    step itself goes ahead: only what would reach a partner waits."""
    if not bookings or given(consents, "partner_sharing"):
        return bookings, Change(at=now)
    return (), Change(
        at=now,
        held=(HeldBookings(step=step, bookings=bookings, held_at=now),),
        timeline=(
            TimelineEntry(
                at=now,
                kind="bookings_held",
                detail={
                    "step": step,
                    "bookings": _kinds(bookings),
                    "purpose": "partner_sharing",
                    "reason": refusal("booking"),
                },
            ),
        ),
    )


def _requesting_bookings(now: datetime, entry: TimelineEntry, event: Announcement) -> Change:
    """The step's own timeline entry and event; its bookings name the traveller, so erasing
    the case deletes the event from the stream, and a step that books something discloses the
    traveller to logistics (one without services to book discloses nothing)."""
    return Change(at=now, timeline=(entry,), announcements=(event,))


def _kinds(bookings: tuple[BookingDetails, ...]) -> list[object]:
    return [b.__struct_config__.tag for b in bookings]


def booking_progress(event: BookingStatusChanged) -> TimelineEntry | None:
    """The patient sees a booking once it is confirmed and as it progresses; offers to partners
    and unassigned bookings are the operators' business and stay off the timeline."""
    if event.to_status not in PATIENT_VISIBLE:
        return None
    return TimelineEntry(
        at=event.changed_at,
        kind="booking",
        detail={
            "booking_id": event.booking_id,
            "kind": event.kind,
            "to_status": event.to_status,
            "partner_name": event.partner_name,
            "progress": event.progress,
        },
    )
