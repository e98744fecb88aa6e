"""The inquiry lifecycle: every allowed transition passes, every other one is refused with the
states that are allowed from there."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from typing import Any

import msgspec
import pytest

from contracts.inquiries import InquiryStatus
from contracts.logistics import (
    Address,
    InterpreterDetails,
    InterpreterSession,
    MedicineItem,
    ShipmentDetails,
    TransferDetails,
    Traveller,
)
from services.inquiries.domain.casework import (
    arrival_bookings,
    confirmation_problems,
    discharge_bookings,
    discharge_problems,
)
from services.inquiries.domain.commands import (
    Advance,
    Clinic,
    Confirmation,
    CostItem,
    Discharge,
    InterpreterPlan,
    MedicationPlan,
    OfferForm,
    Payer,
    Programme,
    ReturnFlight,
    ServicesPlan,
    TransferPlan,
    TravelPlan,
)
from services.inquiries.domain.lifecycle import (
    STATUSES,
    TERMINAL,
    TRANSITIONS,
    check_plain_transition,
    check_processing_allowed,
    check_transition,
)
from services.inquiries.domain.offers import offer_problems
from services.runtime.core.errors import Conflict, IllegalTransition, Invalid
from tests import inquiry_commands

PAIRS = list(itertools.product(STATUSES, STATUSES))


@pytest.mark.parametrize(("current", "target"), [p for p in PAIRS if p[1] in TRANSITIONS[p[0]]])
def test_allowed_transitions_pass(current: InquiryStatus, target: InquiryStatus) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), [p for p in PAIRS if p[1] not in TRANSITIONS[p[0]]])
def test_every_other_transition_is_refused_naming_the_allowed_states(
    current: InquiryStatus, target: InquiryStatus
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_transition(current, target)

    assert refused.value.allowed == TRANSITIONS[current]
    assert current in refused.value.detail


def test_the_trade_path_runs_from_submission_to_completion() -> None:
    path: list[InquiryStatus] = [
        "submitted", "in_review", "records_requested", "in_review", "offer_sent", "offer_sent",
        "accepted", "confirmed", "in_treatment", "discharged", "completed",
    ]  # fmt: skip
    for current, target in itertools.pairwise(path):
        check_transition(current, target)


def test_closed_cases_allow_nothing() -> None:
    assert {"completed", "declined", "cancelled"} == TERMINAL
    assert set(TRANSITIONS) == set(STATUSES)


NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
TRAVELLER = Traveller(full_name="Olena Kovalenko", phone="+380501234567", language="uk")


def programme(**changes: Any) -> Programme:
    values: dict[str, Any] = {
        "title": "Mitral valve repair",
        "clinic": "Herzzentrum",
        "physician": "Dr. Weber",
        "procedures": ("repair",),
        "length_of_stay_days": 10,
        "items": (
            CostItem(description="diagnostics", amount="1500.00"),
            CostItem(description="surgery", amount="20000.50"),
        ),
        "total": "21500.50",
        "advance": "5000.00",
    }
    return Programme(**(values | changes))


def test_an_offer_whose_items_add_up_and_that_is_still_valid_passes() -> None:
    offer = OfferForm(programmes=(programme(),), valid_until=NOW + timedelta(days=1))

    assert offer_problems(offer, NOW) == []


def test_an_offer_lists_every_broken_rule_by_programme() -> None:
    offer = OfferForm(
        programmes=(programme(), programme(total="100.00", advance="200.00")),
        valid_until=NOW,
    )

    assert [(p.field, p.message) for p in offer_problems(offer, NOW)] == [
        ("valid_until", "must be in the future"),
        ("programmes[1].total", "is 100.00 but the items add up to 21500.50"),
        ("programmes[1].advance", "exceeds the total"),
    ]


def test_a_plain_transition_to_a_step_with_a_payload_names_its_own_request() -> None:
    check_plain_transition("in_review", "records_requested")
    with pytest.raises(Invalid) as refused:
        check_plain_transition("in_review", "offer_sent")

    assert "/offers" in refused.value.problems[0].message


def test_processing_stops_once_health_data_consent_is_withdrawn() -> None:
    check_processing_allowed({"health_data_processing": True, "marketing": False})
    with pytest.raises(Conflict):
        check_processing_allowed({"health_data_processing": False})


def plan(services: ServicesPlan) -> TravelPlan:
    return inquiry_commands.plan(NOW, services)


def test_the_plan_books_a_transfer_and_an_interpreter_for_the_traveller_only() -> None:
    session = InterpreterSession(
        date=(NOW + timedelta(days=61)).date(), start=time(9), duration_minutes=60, place="ward"
    )
    services = ServicesPlan(
        transfer=TransferPlan(passengers=2, mobility="stretcher"),
        interpreter=InterpreterPlan(specialty="cardiology", sessions=(session,)),
        support=True,
    )

    transfer, interpreter = arrival_bookings(plan(services), TRAVELLER)

    assert isinstance(transfer, TransferDetails)
    assert (transfer.pickup, transfer.dropoff) == (
        "FRA airport",
        "Herzzentrum, Klinikweg 1, Frankfurt",
    )
    assert (transfer.mobility, transfer.passengers, transfer.direction) == (
        "stretcher",
        2,
        "arrival",
    )
    assert isinstance(interpreter, InterpreterDetails)
    assert (interpreter.language_from, interpreter.language_to) == ("uk", "de")
    assert arrival_bookings(plan(ServicesPlan(support=True)), TRAVELLER) == ()


def test_a_confirmation_lists_every_broken_date_and_amount() -> None:
    bad = plan(ServicesPlan())
    bad = msgspec.structs.replace(bad, discharge=bad.admission - timedelta(days=1))
    payer = Payer(relation="self", name="Olena Kovalenko")
    confirmation = Confirmation(
        payment=Advance(
            amount="0.00", paid_on=(NOW + timedelta(days=1)).date(), reference="r", payer=payer
        ),
        plan=bad,
    )

    assert {p.field for p in confirmation_problems(confirmation, NOW.date())} == {
        "plan.discharge",
        "payment.amount",
        "payment.paid_on",
    }


def test_the_discharge_books_the_return_transfer_and_ships_the_medication_home() -> None:
    departs = NOW + timedelta(days=72)
    discharge = Discharge(
        fit_to_fly=departs.date(),
        medication=MedicationPlan(
            items=(
                MedicineItem(
                    name="Marcumar", active_ingredient="phenprocoumon", strength="3 mg", quantity=1
                ),
            ),
            cold_chain=True,
        ),
        return_flight=ReturnFlight(
            flight_number="LH1490",
            airport="FRA",
            departs_at=departs,
            at_airport_by=departs - timedelta(hours=2),
            pickup_at=departs - timedelta(hours=3),
        ),
        home_address=Address(
            recipient="Olena Kovalenko",
            street="Khreshchatyk 1",
            postal_code="01001",
            city="Kyiv",
            country="UA",
        ),
    )
    clinic = Clinic(name="Herzzentrum", address="Klinikweg 1, Frankfurt")

    assert discharge_problems(discharge) == []
    transfer, shipment = discharge_bookings(discharge, clinic, TRAVELLER)
    assert isinstance(transfer, TransferDetails)
    assert transfer.direction == "return"
    assert (transfer.pickup, transfer.dropoff) == (
        "Herzzentrum, Klinikweg 1, Frankfurt",
        "FRA airport",
    )
    assert (transfer.pickup_at, transfer.scheduled_arrival) == (
        departs - timedelta(hours=3),
        departs - timedelta(hours=2),
    )
    assert isinstance(shipment, ShipmentDetails)
    assert shipment.cold_chain is True
    assert shipment.destination.city == "Kyiv"
