"""A partner's report of a personal-data breach, decided: which bookings it touches (only ones
the partner was sent), the report as kept, an entry on each booking's timeline and the alert
that starts the operator's 72-hour clock (GDPR Art. 33)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from contracts.logistics import BookingStatus, OperatorAlert
from contracts.partners import IncidentReported
from contracts.registry import OPERATOR_ALERT
from services.logistics.domain.model import Message
from services.logistics.domain.rules import parse_id
from services.runtime.core.errors import Conflict, Invalid


class AffectedBooking(msgspec.Struct, frozen=True, kw_only=True):
    booking_id: uuid.UUID
    inquiry_id: str | None


class Incident(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    partner_id: str
    report_id: str
    category: str
    description: str
    detected_at: datetime
    occurred_at: datetime | None
    all_data: bool
    reported_at: datetime
    affected_bookings: list[AffectedBooking]
    # The pseudonymous cases the affected bookings belong to: whose patients to tell (Art. 34).
    affected_inquiry_ids: list[str]


class Named(msgspec.Struct, frozen=True, kw_only=True):
    """What a report names, as ids: the bookings and the offers."""

    booking_ids: tuple[uuid.UUID, ...]
    offer_ids: tuple[uuid.UUID, ...]


class Holdings(msgspec.Struct, frozen=True, kw_only=True):
    """What the store found the partner was sent, for a report: every booking it was offered
    (all_data) or those among the named ones, and the named offers it holds."""

    bookings: tuple[AffectedBooking, ...]
    of_offers: dict[uuid.UUID, AffectedBooking]
    statuses: dict[uuid.UUID, BookingStatus]


class IncidentEntry(msgspec.Struct, frozen=True, kw_only=True):
    """The timeline entry a report leaves on one affected booking, at the status it has."""

    booking_id: uuid.UUID
    status: BookingStatus
    detail: dict[str, str]


class IncidentRecorded(msgspec.Struct, frozen=True, kw_only=True):
    incident: Incident
    timeline: tuple[IncidentEntry, ...]
    alert: Message


def named(report: IncidentReported) -> Named | None:
    """The ids a report names (None for all_data); a report naming nothing is refused."""
    if report.all_data:
        return None
    if not report.booking_ids and not report.offer_ids:
        raise Invalid.single("booking_ids", "name the affected bookings or offers, or set all_data")
    return Named(
        booking_ids=tuple(parse_id(b, "booking_ids") for b in report.booking_ids),
        offer_ids=tuple(parse_id(o, "offer_ids") for o in report.offer_ids),
    )


def record(
    report: IncidentReported,
    sender: str,
    names: Named | None,
    held: Holdings,
    *,
    incident_id: uuid.UUID,
    report_id: str,
    now: datetime,
) -> IncidentRecorded:
    """Keep the report of partner `sender`, given what it holds. Naming a booking or offer the
    sender was never sent is refused (Conflict): a partner reports on its own data only."""
    affected = _affected(sender, names, held)
    cases = sorted({b.inquiry_id for b in affected if b.inquiry_id is not None})
    incident = Incident(
        id=incident_id,
        partner_id=sender,
        report_id=report_id,
        category=report.category,
        description=report.description,
        detected_at=report.detected_at,
        occurred_at=report.occurred_at,
        all_data=report.all_data,
        reported_at=now,
        affected_bookings=affected,
        affected_inquiry_ids=cases,
    )
    detail = {"incident_id": str(incident_id), "category": report.category}
    scope = "everything it holds from us" if report.all_data else "the bookings it named"
    alert = OperatorAlert(
        alert="partner_incident",
        detail=(
            f"partner {sender} reports a personal-data breach ({report.category}), detected "
            f"{report.detected_at.isoformat()}, affecting {scope}: {len(affected)} bookings "
            f"of {len(cases)} cases. GDPR Art. 33: assess it and notify the supervisory "
            f"authority within 72 hours; see GET /v1/incidents/{incident_id}"
        ),
        raised_at=now,
        partner_id=sender,
        incident_id=str(incident_id),
        affected_inquiry_ids=tuple(cases),
        affected_booking_ids=tuple(str(b.booking_id) for b in affected),
    )
    return IncidentRecorded(
        incident=incident,
        # The entry records each booking's status as it stands; its details are not needed.
        timeline=tuple(
            IncidentEntry(
                booking_id=b.booking_id, status=held.statuses[b.booking_id], detail=detail
            )
            for b in affected
        ),
        alert=Message(subject=OPERATOR_ALERT.subject(), event=alert),
    )


def _affected(sender: str, names: Named | None, held: Holdings) -> list[AffectedBooking]:
    if names is None:
        return sorted(held.bookings, key=lambda b: b.booking_id)
    foreign = sorted(set(names.booking_ids) - {b.booking_id for b in held.bookings})
    if foreign:
        raise Conflict(f"partner {sender} was offered no booking {', '.join(map(str, foreign))}")
    unknown = sorted(set(names.offer_ids) - held.of_offers.keys())
    if unknown:
        raise Conflict(f"partner {sender} holds no offer {', '.join(map(str, unknown))}")
    merged = {b.booking_id: b for b in (*held.bookings, *held.of_offers.values())}
    return [merged[k] for k in sorted(merged)]
