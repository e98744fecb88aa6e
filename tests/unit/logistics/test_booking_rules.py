"""The pure booking rules: transitions, who is offered a booking next, progress, erasure."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from contracts.logistics import BookingDetails, booking_details_decoder
from services.logistics import domain
from services.runtime.core.errors import Conflict, IllegalTransition, Invalid
from tests.logistics_samples import interpreter, shipment, transfer


def details(kind: str, body: dict[str, Any]) -> BookingDetails:
    return booking_details_decoder.decode(msgspec.json.encode({"kind": kind, **body}))


def partner(partner_id: str, **changes: Any) -> domain.Partner:
    base = domain.Partner(
        id=partner_id,
        name=partner_id,
        kinds=("transfer", "interpreter", "shipment"),
        coverage=domain.Coverage(airports=("FRA",), cities=(), countries=("UA",)),
        languages=("uk", "de"),
        capabilities=(),
        priority=10,
        active=True,
    )
    return msgspec.structs.replace(base, **changes)


def test_the_highest_priority_suitable_partner_goes_first_and_ties_go_by_id() -> None:
    partners = [partner("b", priority=5), partner("c", priority=20), partner("a", priority=20)]

    chosen = domain.next_partner(details("transfer", transfer()), partners, already_offered=())

    assert chosen is not None
    assert chosen.id == "a"


def test_a_partner_asked_before_is_never_asked_again() -> None:
    partners = [partner("a", priority=20), partner("b", priority=5)]
    booking = details("transfer", transfer())

    assert domain.next_partner(booking, partners, ["a"]) == partners[1]
    assert domain.next_partner(booking, partners, ["a", "b"]) is None


@pytest.mark.parametrize(
    ("kind", "body", "unsuitable"),
    [
        ("transfer", transfer(), {"active": False}),
        ("transfer", transfer(), {"kinds": ("shipment",)}),
        ("transfer", transfer(airport="MUC"), {}),
        ("transfer", transfer(mobility="stretcher"), {}),
        ("interpreter", interpreter(), {"capabilities": ()}),
        ("interpreter", interpreter(language_from="ar"), {"capabilities": ("informed_consent",)}),
        ("shipment", shipment(cold_chain=True), {}),
        ("shipment", shipment(), {"coverage": domain.Coverage(countries=("DE",))}),
    ],
)
def test_a_partner_must_serve_the_kind_place_languages_and_needs(
    kind: str, body: dict[str, Any], unsuitable: dict[str, Any]
) -> None:
    capable = ("informed_consent",) if kind == "interpreter" else ()
    suitable = partner("p", capabilities=capable)
    booking = details(kind, body)

    assert not domain.serves(msgspec.structs.replace(suitable, **unsuitable), booking)


def test_a_stretcher_needs_an_ambulance_and_a_consent_talk_a_qualified_interpreter() -> None:
    stretcher = details("transfer", transfer(mobility="stretcher"))
    consent = details("interpreter", interpreter())

    assert domain.serves(partner("amb", capabilities=("ambulance",)), stretcher)
    assert domain.serves(partner("qual", capabilities=("informed_consent",)), consent)


def test_progress_moves_a_confirmed_booking_forward_and_its_last_step_completes_it() -> None:
    assert domain.progress_target("transfer", "confirmed", None, "driver_assigned") == (
        "in_progress"
    )
    assert domain.progress_target("transfer", "in_progress", "driver_assigned", "picked_up") == (
        "in_progress"
    )
    assert domain.progress_target("shipment", "in_progress", "in_customs", "delivered") == (
        "completed"
    )
    assert domain.progress_target("interpreter", "in_progress", "session_done", "session_done") == (
        "in_progress"
    )


def test_progress_the_booking_has_passed_is_superseded() -> None:
    assert domain.progress_target("transfer", "in_progress", "picked_up", "en_route") is None
    assert domain.progress_target("transfer", "in_progress", "picked_up", "picked_up") is None
    assert domain.progress_target("transfer", "completed", "completed", "picked_up") is None
    assert domain.progress_target("interpreter", "completed", "completed", "session_done") is None


def test_progress_of_another_kind_or_before_confirmation_is_refused() -> None:
    with pytest.raises(Conflict, match="takes no progress"):
        domain.progress_target("transfer", "cancelled", "picked_up", "completed")
    with pytest.raises(Invalid, match="not a step of a transfer"):
        domain.progress_target("transfer", "confirmed", None, "delivered")
    with pytest.raises(Conflict, match="takes no progress"):
        domain.progress_target("transfer", "offered", None, "driver_assigned")


def test_closed_bookings_change_no_more_and_a_dispatched_shipment_is_not_cancelled() -> None:
    with pytest.raises(IllegalTransition, match="is completed"):
        domain.check_transition("completed", "cancelled")
    with pytest.raises(IllegalTransition, match="cannot be cancelled once dispatched"):
        domain.check_cancellable("shipment", "in_progress", "dispatched")
    domain.check_cancellable("shipment", "confirmed", None)
    domain.check_cancellable("transfer", "in_progress", "picked_up")


def test_erasure_leaves_no_name_phone_or_address_and_keeps_the_booking_valid() -> None:
    for kind, body in (
        ("transfer", transfer(meeting_point="Gate B, sign with name")),
        ("interpreter", interpreter()),
        ("shipment", shipment()),
    ):
        erased = domain.erased(details(kind, body))
        wire = msgspec.json.encode(erased).decode()

        assert "Kovalenko" not in wire
        assert "+380501234567" not in wire
        assert "Khreshchatyk" not in wire
        assert "RX-2027-0042" not in wire
        assert booking_details_decoder.decode(wire) == erased
        assert erased.patient.full_name == domain.ERASED
