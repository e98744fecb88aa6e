"""A partner's breach report, decided without a database: the domain is given what the partner
was sent and decides what the report touches, what is kept and what operators are told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts.logistics import OperatorAlert
from contracts.partners import IncidentReported
from services.logistics import domain
from services.logistics.domain.incidents import AffectedBooking, Holdings
from services.runtime.core.errors import Conflict, Invalid

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
BOOKING_A, BOOKING_B = sorted([uuid.uuid4(), uuid.uuid4()])
OFFER_B = uuid.uuid4()


def report(**named: object) -> IncidentReported:
    return IncidentReported(
        category="lost_device",
        description="a driver's phone was lost",
        detected_at=NOW,
        **named,  # type: ignore[arg-type]
    )


def held(
    *, offered: tuple[AffectedBooking, ...], of_offers: dict[uuid.UUID, AffectedBooking]
) -> Holdings:
    return Holdings(
        bookings=offered,
        of_offers=of_offers,
        statuses={BOOKING_A: "confirmed", BOOKING_B: "offered"},
    )


A = AffectedBooking(booking_id=BOOKING_A, inquiry_id="case-1")
B = AffectedBooking(booking_id=BOOKING_B, inquiry_id="case-2")


def decide(r: IncidentReported, h: Holdings) -> domain.incidents.IncidentRecorded:
    return domain.incidents.record(
        r, "rhein", domain.incidents.named(r), h, incident_id=uuid.uuid4(), report_id="r1", now=NOW
    )


def test_a_report_on_a_booking_and_an_offer_touches_both_and_alerts_with_the_72_hour_clock() -> (
    None
):
    r = report(booking_ids=(str(BOOKING_A),), offer_ids=(str(OFFER_B),))
    decided = decide(r, held(offered=(A,), of_offers={OFFER_B: B}))

    assert decided.incident.affected_bookings == [A, B]
    assert decided.incident.affected_inquiry_ids == ["case-1", "case-2"]
    assert [(e.booking_id, e.status) for e in decided.timeline] == [
        (BOOKING_A, "confirmed"),
        (BOOKING_B, "offered"),
    ]
    alert = decided.alert.event
    assert isinstance(alert, OperatorAlert)
    assert alert.alert == "partner_incident"
    assert "72 hours" in alert.detail
    assert alert.affected_booking_ids == (str(BOOKING_A), str(BOOKING_B))


def test_all_data_touches_every_booking_the_partner_was_offered() -> None:
    decided = decide(report(all_data=True), held(offered=(B, A), of_offers={}))
    assert [b.booking_id for b in decided.incident.affected_bookings] == [BOOKING_A, BOOKING_B]
    assert "everything it holds" in decided.alert.event.detail  # type: ignore[attr-defined]


def test_a_report_naming_nothing_is_refused() -> None:
    with pytest.raises(Invalid, match="name the affected bookings or offers"):
        domain.incidents.named(report())


def test_a_booking_the_partner_was_never_offered_is_refused() -> None:
    r = report(booking_ids=(str(BOOKING_A), str(BOOKING_B)))
    with pytest.raises(Conflict, match=f"was offered no booking {BOOKING_B}"):
        decide(r, held(offered=(A,), of_offers={}))


def test_an_offer_the_partner_does_not_hold_is_refused() -> None:
    r = report(offer_ids=(str(OFFER_B),))
    with pytest.raises(Conflict, match=f"holds no offer {OFFER_B}"):
        decide(r, held(offered=(), of_offers={}))


def test_an_id_that_is_not_a_uuid_is_refused_naming_its_field() -> None:
    with pytest.raises(Invalid, match="offer_ids"):
        domain.incidents.named(report(offer_ids=("not-a-uuid",)))
