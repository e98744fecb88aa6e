"""A partner's report of a personal-data breach: checked against what the partner was sent,
kept, marked on each affected booking's timeline, and raised to operators with the cases it
touches. Reading the reports back for staff."""

from __future__ import annotations

import uuid
from datetime import datetime

from contracts.partners import IncidentReported
from services.logistics import domain
from services.logistics.store import bookings, incidents
from services.logistics.usecases.collaborators import BookingCollaborators
from services.runtime.core.db import Connection
from services.runtime.core.errors import NotFound


async def record_incident(
    conn: Connection,
    c: BookingCollaborators,
    report: IncidentReported,
    sender: str,
    *,
    report_id: str,
    now: datetime,
) -> uuid.UUID:
    """Keep the report of partner `sender` and alert operators, in the caller's transaction.
    A report naming a booking or offer the sender was never sent, or naming nothing at all,
    raises a DomainError: the consumer keeps it as a dead letter and nothing is stored."""
    names = domain.incidents.named(report)
    held = await _holdings(conn, sender, names)
    decided = domain.incidents.record(
        report, sender, names, held, incident_id=uuid.uuid4(), report_id=report_id, now=now
    )
    await incidents.insert_incident(conn, c.keys, decided.incident)
    for entry in decided.timeline:
        await bookings.insert_timeline(
            conn,
            entry.booking_id,
            at=now,
            entry="partner_incident",
            status=entry.status,
            partner_id=sender,
            detail=entry.detail,
        )
    await c.outbox.emit(conn, decided.alert.subject, decided.alert.event)
    return decided.incident.id


async def _holdings(
    conn: Connection, sender: str, names: domain.incidents.Named | None
) -> domain.incidents.Holdings:
    """What the sender was sent among what the report names (all of it, for all_data)."""
    offered = await incidents.bookings_offered_to(
        conn, sender, None if names is None else list(names.booking_ids)
    )
    of_offers = (
        {}
        if names is None
        else await incidents.bookings_of_offers(conn, sender, list(names.offer_ids))
    )
    ids = sorted({b.booking_id for b in (*offered, *of_offers.values())})
    return domain.incidents.Holdings(
        bookings=tuple(offered),
        of_offers=of_offers,
        statuses=await bookings.statuses_of(conn, ids),
    )


async def incident(c: BookingCollaborators, incident_id: uuid.UUID) -> domain.Incident:
    async with c.pool.acquire() as conn:
        found = await incidents.get_incident(conn, c.keys, incident_id)
    if found is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return found


async def incidents_reported(
    c: BookingCollaborators, *, partner_id: str | None, limit: int
) -> list[domain.Incident]:
    """The newest reports first, of one partner or all."""
    async with c.pool.acquire() as conn:
        return await incidents.list_incidents(conn, c.keys, partner_id=partner_id, limit=limit)
