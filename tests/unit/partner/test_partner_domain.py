"""The reference partner's rules: what it answers to an offer and which steps it reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from contracts.logistics import BookingKind, InterpreterDetails
from contracts.partners import (
    INTERPRETER_PROGRESS,
    SHIPMENT_PROGRESS,
    TRANSFER_PROGRESS,
    OfferAccepted,
    OfferDeclined,
    StatusUpdate,
)
from services.partner import domain
from tests.partner_samples import offer

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
ALL: tuple[BookingKind, ...] = ("transfer", "interpreter", "shipment")


def test_an_offer_of_a_served_kind_is_accepted_when_the_draw_is_below_the_accept_rate() -> None:
    o = offer(respond_by=NOW + timedelta(minutes=5))

    answer = domain.decide(o, kinds=ALL, accept_rate=0.7, roll=0.69, now=NOW)

    assert answer == OfferAccepted(offer_id=o.offer_id)


def test_an_offer_is_declined_for_capacity_when_the_draw_reaches_the_accept_rate() -> None:
    o = offer(respond_by=NOW + timedelta(minutes=5))

    answer = domain.decide(o, kinds=ALL, accept_rate=0.7, roll=0.7, now=NOW)

    assert isinstance(answer, OfferDeclined)
    assert (answer.offer_id, answer.reason) == (o.offer_id, "no_capacity")


def test_accept_rate_zero_declines_everything_and_one_accepts_everything() -> None:
    o = offer(respond_by=NOW + timedelta(minutes=5))

    assert isinstance(
        domain.decide(o, kinds=ALL, accept_rate=0.0, roll=0.0, now=NOW), OfferDeclined
    )
    assert isinstance(
        domain.decide(o, kinds=ALL, accept_rate=1.0, roll=0.999, now=NOW), OfferAccepted
    )


def test_an_offer_of_a_kind_the_partner_does_not_serve_is_declined_as_not_qualified() -> None:
    o = offer("shipment", respond_by=NOW + timedelta(minutes=5))

    answer = domain.decide(o, kinds=("transfer",), accept_rate=1.0, roll=0.0, now=NOW)

    assert isinstance(answer, OfferDeclined)
    assert answer.reason == "not_qualified"


def test_an_offer_past_its_deadline_gets_no_answer() -> None:
    o = offer(respond_by=NOW)

    assert domain.decide(o, kinds=ALL, accept_rate=1.0, roll=0.0, now=NOW) is None


def test_each_offer_gets_the_same_draw_for_the_same_seed_and_offers_differ() -> None:
    first, second = offer(), offer()

    assert domain.offer_roll(7, first.offer_id) == domain.offer_roll(7, first.offer_id)
    assert domain.offer_roll(7, first.offer_id) != domain.offer_roll(7, second.offer_id)
    assert domain.offer_roll(7, first.offer_id) != domain.offer_roll(8, first.offer_id)
    assert 0.0 <= domain.offer_roll(7, first.offer_id) < 1.0


@pytest.mark.parametrize(
    ("kind", "progression"),
    [
        ("transfer", TRANSFER_PROGRESS),
        ("interpreter", INTERPRETER_PROGRESS),
        ("shipment", SHIPMENT_PROGRESS),
    ],
)
def test_each_kind_reports_its_progression_in_order(
    kind: BookingKind, progression: tuple[str, ...]
) -> None:
    assert domain.steps(offer(kind)) == progression


def test_an_interpreter_reports_one_session_done_per_session() -> None:
    one = offer("interpreter")
    assert isinstance(one.details, InterpreterDetails)
    three = msgspec.structs.replace(
        one,
        details=msgspec.structs.replace(one.details, sessions=one.details.sessions * 3),
    )

    assert domain.steps(three) == (
        "interpreter_assigned",
        "session_done",
        "session_done",
        "session_done",
        "completed",
    )


def test_a_driver_assignment_names_driver_and_vehicle_and_never_the_traveller() -> None:
    o = offer("transfer", mobility="none")

    update = domain.status_update(o.booking_id, o.details, "driver_assigned", at=NOW)

    assert update.driver_name
    assert update.vehicle
    assert update.note
    assert update.driver_name in update.note
    assert "Petrenko" not in repr(update)
    assert update == domain.status_update(o.booking_id, o.details, "driver_assigned", at=NOW)


def test_a_stretcher_transfer_is_served_by_an_ambulance() -> None:
    o = offer("transfer", mobility="stretcher")

    update = domain.status_update(o.booking_id, o.details, "driver_assigned", at=NOW)

    assert update.vehicle is not None
    assert "ambulance" in update.vehicle


def test_an_interpreter_assignment_names_the_interpreter_and_the_language_pair() -> None:
    o = offer("interpreter")

    update = domain.status_update(o.booking_id, o.details, "interpreter_assigned", at=NOW)

    assert update.interpreter_name
    assert update.note
    assert "uk->de" in update.note


def test_a_dispatched_shipment_carries_carrier_and_tracking_number() -> None:
    o = offer("shipment")

    update = domain.status_update(o.booking_id, o.details, "dispatched", at=NOW)

    assert update.carrier
    assert update.tracking_number
    assert update.tracking_number.startswith("CB")


def test_other_steps_report_just_the_status_and_time() -> None:
    o = offer("transfer")

    update = domain.status_update(o.booking_id, o.details, "picked_up", at=NOW)

    assert update == StatusUpdate(booking_id=o.booking_id, status="picked_up", at=NOW)


def test_reply_ids_are_stable_per_offer_and_step_and_distinct_between_them() -> None:
    o, other = offer(), offer()

    assert domain.reply_id(o.offer_id) == domain.reply_id(o.offer_id)
    assert domain.reply_id(o.offer_id, 1) == domain.reply_id(o.offer_id, 1)
    ids = {
        domain.reply_id(o.offer_id),
        domain.reply_id(o.offer_id, 0),
        domain.reply_id(o.offer_id, 1),
    }
    assert len(ids) == 3
    assert domain.reply_id(o.offer_id, 1) != domain.reply_id(other.offer_id, 1)
