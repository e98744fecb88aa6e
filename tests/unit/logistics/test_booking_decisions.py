"""The booking decisions, pure: given the state, the command and `now`, the change to save (new
state, offers, timeline, events), or a refusal. No database, no server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from contracts.logistics import (
    Arrangement,
    BookingStatusChanged,
    OperatorAlert,
    booking_details_decoder,
)
from contracts.partners import Offer, OfferDeclined, OfferWithdrawn, StatusUpdate
from services.logistics import domain
from services.runtime.core.errors import Conflict, IllegalTransition, Invalid, NotYet
from tests.logistics_samples import shipment, transfer

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
TIMEOUT = timedelta(minutes=15)


def partner(partner_id: str, **changes: Any) -> domain.Partner:
    base = domain.Partner(
        id=partner_id,
        name=f"{partner_id} Transfers",
        kinds=("transfer", "shipment"),
        coverage=domain.Coverage(airports=("FRA",), countries=("UA",)),
        languages=(),
        capabilities=(),
        priority=10,
        active=True,
    )
    return msgspec.structs.replace(base, **changes)


def offering(*partners: domain.Partner) -> domain.Offering:
    return domain.Offering(partners=partners, timeout=TIMEOUT, offer_id=uuid.uuid4())


def created(*partners: domain.Partner, details: dict[str, Any] | None = None) -> domain.Change:
    body = {"kind": "transfer", **(details or transfer())}
    return domain.create(
        uuid.uuid4(),
        booking_details_decoder.decode(msgspec.json.encode(body)),
        inquiry_id="inq-1",
        offering=offering(*partners),
        now=NOW,
    )


def state_after(change: domain.Change) -> domain.BookingState:
    """The state a later decision loads once `change` was saved."""
    offers = tuple(o for o in (change.opened,) if o is not None)
    return domain.BookingState(
        booking=change.booking, offers=offers, partner_names={p: f"{p} Transfers" for p in "ab"}
    )


def events(change: domain.Change, kind: type[Any]) -> list[Any]:
    return [m.event for m in change.messages if isinstance(m.event, kind)]


def test_a_new_booking_is_offered_to_the_best_partner_in_one_change() -> None:
    change = created(partner("a", priority=5), partner("b", priority=20))

    assert change.before is None
    assert (change.booking.status, change.booking.version) == ("offered", 2)
    assert change.opened is not None
    assert change.opened.partner_id == "b"
    assert change.opened.respond_by == NOW + TIMEOUT
    assert [e.entry for e in change.timeline] == ["created", "offered"]
    [offer] = events(change, Offer)
    assert offer.offer_id == str(change.opened.id)
    [moved] = events(change, BookingStatusChanged)
    assert (moved.from_status, moved.to_status) == ("requested", "offered")


def test_a_new_booking_with_no_suitable_partner_is_unassigned_and_operators_are_alerted() -> None:
    change = created(partner("a", coverage=domain.Coverage(airports=("MUC",))))

    assert change.booking.status == "unassigned"
    assert change.opened is None
    [alert] = events(change, OperatorAlert)
    assert alert.alert == "booking_unassigned"
    assert "(0 asked)" in alert.detail


def test_a_decline_goes_to_the_next_partner_and_names_it_on_the_timeline() -> None:
    first = created(partner("a", priority=20), partner("b"))
    assert first.opened is not None
    state = state_after(first)

    reply = OfferDeclined(offer_id=str(first.opened.id), reason="no_capacity")
    change = domain.decline(state, reply, "a", offering(partner("a"), partner("b")), now=NOW)

    assert [(o.partner_id, o.state) for o in change.closed] == [("a", "declined")]
    assert change.opened is not None
    assert change.opened.partner_id == "b"
    # Still offered, now to b: a timeline entry, not a new version.
    assert not change.moved
    assert [(e.entry, e.partner_id) for e in change.timeline] == [
        ("offer_declined", "a"),
        ("offered", "b"),
    ]


def test_an_acceptance_confirms_the_booking_and_the_event_names_the_partner() -> None:
    first = created(partner("a"))
    assert first.opened is not None

    change = domain.accept(state_after(first), str(first.opened.id), "a", now=NOW)

    assert (change.booking.status, change.booking.partner_id) == ("confirmed", "a")
    [moved] = events(change, BookingStatusChanged)
    assert (moved.partner_id, moved.partner_name) == ("a", "a Transfers")


def test_a_reply_about_an_offer_made_to_another_partner_is_refused() -> None:
    first = created(partner("a"))
    assert first.opened is not None

    with pytest.raises(Conflict, match="partner b holds no offer"):
        domain.accept(state_after(first), str(first.opened.id), "b", now=NOW)


def test_a_reply_naming_no_uuid_is_invalid() -> None:
    with pytest.raises(Invalid):
        domain.accept(state_after(created(partner("a"))), "not-a-uuid", "a", now=NOW)


def test_progress_before_the_acceptance_is_applied_is_not_yet() -> None:
    """The "not yet" rule: the partner's offer is open and no one holds the booking."""
    first = created(partner("a"))
    update = StatusUpdate(booking_id=str(first.booking.id), status="driver_assigned")

    with pytest.raises(NotYet):
        domain.report_progress(state_after(first), update, "a", now=NOW)


def test_progress_of_a_booking_held_by_another_partner_is_refused() -> None:
    first = created(partner("a"))
    assert first.opened is not None
    accepted = domain.accept(state_after(first), str(first.opened.id), "a", now=NOW)
    update = StatusUpdate(booking_id=str(first.booking.id), status="driver_assigned")

    with pytest.raises(Conflict):
        domain.report_progress(state_after(accepted), update, "b", now=NOW)


def test_progress_the_booking_has_passed_changes_nothing() -> None:
    first = created(partner("a"))
    assert first.opened is not None
    accepted = domain.accept(state_after(first), str(first.opened.id), "a", now=NOW)
    update = StatusUpdate(booking_id=str(first.booking.id), status="driver_assigned")
    assigned = domain.report_progress(state_after(accepted), update, "a", now=NOW)
    assert assigned is not None
    assert (assigned.booking.status, assigned.booking.progress) == (
        "in_progress",
        "driver_assigned",
    )

    assert domain.report_progress(state_after(assigned), update, "a", now=NOW) is None


def test_a_dispatched_shipment_cannot_be_cancelled() -> None:
    first = created(partner("a"), details={**shipment(), "kind": "shipment"})
    assert first.opened is not None
    booking = msgspec.structs.replace(
        first.booking, status="in_progress", partner_id="a", progress="dispatched"
    )

    with pytest.raises(IllegalTransition, match="once dispatched"):
        domain.cancel(domain.BookingState(booking=booking), reason="changed plans", now=NOW)


def test_cancelling_withdraws_the_open_offer_without_the_reason() -> None:
    first = created(partner("a"))

    change = domain.cancel(state_after(first), reason="the patient's surgery moved", now=NOW)

    assert change.booking.status == "cancelled"
    [withdrawn] = events(change, OfferWithdrawn)
    assert withdrawn.reason == domain.CANCELLED
    assert [o.state for o in change.closed] == ["withdrawn"]


def test_a_closed_booking_refuses_to_be_dispatched_again() -> None:
    first = created(partner("a"))
    cancelled = domain.cancel(state_after(first), reason="off", now=NOW)

    with pytest.raises(IllegalTransition, match="is cancelled is closed"):
        domain.dispatch_again(state_after(cancelled), offering(partner("b")), now=NOW)


def test_an_unanswered_offer_expires_and_goes_to_the_next_partner() -> None:
    first = created(partner("a", priority=20), partner("b"))
    assert first.opened is not None

    change = domain.expire(
        state_after(first), first.opened.id, offering(partner("a"), partner("b")), now=NOW
    )

    assert change is not None
    assert [o.state for o in change.closed] == ["expired"]
    assert change.opened is not None
    assert change.opened.partner_id == "b"


def test_erasure_wipes_the_traveller_and_asks_each_partner_offered_it_to_erase() -> None:
    first = created(partner("a"))

    change = domain.erase(state_after(first), now=NOW)

    assert change is not None
    assert change.erased
    assert change.booking.details.patient.full_name == domain.ERASED
    assert [e.entry for e in change.timeline] == ["personal_data_erased", "partner_asked_to_erase"]
    assert domain.erase(domain.BookingState(booking=change.booking), now=NOW) is None


def test_the_driver_reported_is_kept_for_the_patient_and_sealed_on_its_way_out() -> None:
    first = created(partner("a"))
    assert first.opened is not None
    accepted = domain.accept(state_after(first), str(first.opened.id), "a", now=NOW)
    assigned = domain.report_progress(
        state_after(accepted),
        StatusUpdate(
            booking_id=str(first.booking.id),
            status="driver_assigned",
            driver_name="Jan Berger",
            driver_phone="+4915112345678",
            meeting_point="FRA arrivals hall, exit A",
        ),
        "a",
        now=NOW,
    )
    assert assigned is not None
    # A later step that reports nothing new keeps what was reported.
    picked_up = domain.report_progress(
        state_after(assigned),
        StatusUpdate(booking_id=str(first.booking.id), status="picked_up", vehicle="V-Class"),
        "a",
        now=NOW,
    )
    assert picked_up is not None

    expected = Arrangement(
        driver_name="Jan Berger",
        driver_phone="+4915112345678",
        vehicle="V-Class",
        meeting_point="FRA arrivals hall, exit A",
    )
    assert picked_up.booking.arrangement == expected
    [changed] = events(picked_up, BookingStatusChanged)
    assert changed.arrangement == expected
    [message] = [m for m in picked_up.messages if isinstance(m.event, BookingStatusChanged)]
    assert message.erasure_key == first.booking.inquiry_id
    # The timeline names which fields came, not their values.
    assert assigned.timeline[-1].detail == {
        "reported": ["driver_name", "driver_phone", "meeting_point"]
    }
