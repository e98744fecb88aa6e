"""A partner's report of a personal-data breach: checked against what the partner was sent,
kept, marked on each affected booking's timeline, and raised to operators with the cases it
touches. Reading the reports back for staff."""

from __future__ import annotations

import uuid
from datetime import datetime

from contracts.logistics import OperatorAlert
from contracts.partners import IncidentReported
from contracts.registry import OPERATOR_ALERT
from services.logistics.domain import parse_id
from services.logistics.store import bookings, incidents
from services.logistics.usecases.collaborators import BookingCollaborators
from services.runtime.core.db import Connection
from services.runtime.core.errors import Conflict, Invalid, NotFound


async def record_incident(
    conn: Connection,
    c: BookingCollaborators,
    report: IncidentReported,
    sender: str,
    *,
    report_id: str,
    now: datetime,
) -> uuid.UUID:
    """Keep the report of partner `sender` and alert operators. A report naming a booking or
    offer the sender was never sent, or naming nothing at all, raises a DomainError: the
    consumer keeps it as a dead letter and nothing is stored."""
    affected = await _affected(conn, report, sender)
    incident_id = uuid.uuid4()
    await incidents.insert_incident(
        conn,
        c.keys,
        id=incident_id,
        partner_id=sender,
        report_id=report_id,
        category=report.category,
        description=report.description,
        detected_at=report.detected_at,
        occurred_at=report.occurred_at,
        all_data=report.all_data,
        reported_at=now,
        affected=affected,
    )
    # The entry records each booking's status as it stands; its details are not needed.
    statuses = await bookings.statuses_of(conn, [b.booking_id for b in affected])
    for booking in affected:
        await bookings.insert_timeline(
            conn,
            booking.booking_id,
            at=now,
            entry="partner_incident",
            status=statuses[booking.booking_id],
            partner_id=sender,
            detail={"incident_id": str(incident_id), "category": report.category},
        )
    cases = sorted({b.inquiry_id for b in affected if b.inquiry_id is not None})
    scope = "everything it holds from us" if report.all_data else "the bookings it named"
    await c.outbox.emit(
        conn,
        OPERATOR_ALERT.subject(),
        OperatorAlert(
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
        ),
    )
    return incident_id


async def _affected(
    conn: Connection, report: IncidentReported, sender: str
) -> list[incidents.AffectedBooking]:
    if report.all_data:
        return await incidents.bookings_offered_to(conn, sender, None)
    if not report.booking_ids and not report.offer_ids:
        raise Invalid.single("booking_ids", "name the affected bookings or offers, or set all_data")
    booking_ids = [parse_id(b, "booking_ids") for b in report.booking_ids]
    offer_ids = [parse_id(o, "offer_ids") for o in report.offer_ids]
    named = await incidents.bookings_offered_to(conn, sender, booking_ids)
    foreign = sorted(set(booking_ids) - {b.booking_id for b in named})
    if foreign:
        raise Conflict(f"partner {sender} was offered no booking {', '.join(map(str, foreign))}")
    of_offers = await incidents.bookings_of_offers(conn, sender, offer_ids)
    unknown = sorted(set(offer_ids) - of_offers.keys())
    if unknown:
        raise Conflict(f"partner {sender} holds no offer {', '.join(map(str, unknown))}")
    merged = {b.booking_id: b for b in (*named, *of_offers.values())}
    return [merged[k] for k in sorted(merged)]


async def incident(c: BookingCollaborators, incident_id: uuid.UUID) -> incidents.Incident:
    async with c.pool.acquire() as conn:
        found = await incidents.get_incident(conn, c.keys, incident_id)
    if found is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return found


async def incidents_reported(
    c: BookingCollaborators, *, partner_id: str | None, limit: int
) -> list[incidents.Incident]:
    """The newest reports first, of one partner or all."""
    async with c.pool.acquire() as conn:
        return await incidents.list_incidents(conn, c.keys, partner_id=partner_id, limit=limit)
