"""SQL of partners' incident reports: one function per statement, connection first."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from services.logistics.domain.incidents import AffectedBooking, Incident
from services.runtime.core.db import Connection
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

_INCIDENT = """id, partner_id, report_id, category, sealed_description, detected_at,
               occurred_at, all_data, reported_at"""


def description_aad(incident_id: uuid.UUID) -> bytes:
    return f"incident:{incident_id}:description".encode()


async def bookings_offered_to(
    conn: Connection, partner_id: str, booking_ids: list[uuid.UUID] | None
) -> list[AffectedBooking]:
    """Bookings the partner was offered (and so holds data of), of `booking_ids` or all."""
    rows = await conn.fetch(
        """SELECT DISTINCT b.id AS booking_id, b.inquiry_id FROM bookings b
           JOIN offers o ON o.booking_id = b.id
           WHERE o.partner_id = $1 AND ($2::uuid[] IS NULL OR b.id = ANY($2::uuid[]))
           ORDER BY b.id""",
        partner_id,
        booking_ids,
    )
    return [msgspec.convert(dict(r.items()), AffectedBooking) for r in rows]


async def bookings_of_offers(
    conn: Connection, partner_id: str, offer_ids: list[uuid.UUID]
) -> dict[uuid.UUID, AffectedBooking]:
    """Offer id -> its booking, for the partner's own offers among `offer_ids`."""
    rows = await conn.fetch(
        """SELECT o.id AS offer_id, b.id AS booking_id, b.inquiry_id FROM offers o
           JOIN bookings b ON b.id = o.booking_id
           WHERE o.partner_id = $1 AND o.id = ANY($2::uuid[])""",
        partner_id,
        offer_ids,
    )
    return {
        r["offer_id"]: AffectedBooking(booking_id=r["booking_id"], inquiry_id=r["inquiry_id"])
        for r in rows
    }


async def insert_incident(conn: Connection, keys: KeyRing, incident: Incident) -> None:
    sealed = keys.encrypt_json(incident.description, aad=description_aad(incident.id))
    await conn.execute(
        f"""INSERT INTO partner_incidents ({_INCIDENT})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        incident.id,
        incident.partner_id,
        incident.report_id,
        incident.category,
        to_column(sealed),
        incident.detected_at,
        incident.occurred_at,
        incident.all_data,
        incident.reported_at,
    )
    await conn.executemany(
        """INSERT INTO partner_incident_bookings (incident_id, booking_id, inquiry_id)
           VALUES ($1, $2, $3)""",
        [(incident.id, a.booking_id, a.inquiry_id) for a in incident.affected_bookings],
    )


async def _affected(
    conn: Connection, incident_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[AffectedBooking]]:
    rows = await conn.fetch(
        """SELECT incident_id, booking_id, inquiry_id FROM partner_incident_bookings
           WHERE incident_id = ANY($1::uuid[]) ORDER BY incident_id, booking_id""",
        incident_ids,
    )
    found: dict[uuid.UUID, list[AffectedBooking]] = {i: [] for i in incident_ids}
    for r in rows:
        found[r["incident_id"]].append(
            AffectedBooking(booking_id=r["booking_id"], inquiry_id=r["inquiry_id"])
        )
    return found


def _incident(row: asyncpg.Record, keys: KeyRing, affected: list[AffectedBooking]) -> Incident:
    fields = dict(row.items())
    sealed = from_column(fields.pop("sealed_description"))
    description = keys.decrypt_json(sealed, aad=description_aad(fields["id"]), type=str)
    cases = sorted({a.inquiry_id for a in affected if a.inquiry_id is not None})
    return Incident(
        **fields,
        description=description,
        affected_bookings=affected,
        affected_inquiry_ids=cases,
    )


async def get_incident(conn: Connection, keys: KeyRing, incident_id: uuid.UUID) -> Incident | None:
    row = await conn.fetchrow(
        f"SELECT {_INCIDENT} FROM partner_incidents WHERE id = $1", incident_id
    )
    if row is None:
        return None
    return _incident(row, keys, (await _affected(conn, [incident_id]))[incident_id])


async def list_incidents(
    conn: Connection, keys: KeyRing, *, partner_id: str | None, limit: int
) -> list[Incident]:
    rows = await conn.fetch(
        f"""SELECT {_INCIDENT} FROM partner_incidents
            WHERE ($1::text IS NULL OR partner_id = $1)
            ORDER BY reported_at DESC, id DESC LIMIT $2""",
        partner_id,
        limit,
    )
    affected = await _affected(conn, [r["id"] for r in rows])
    return [_incident(r, keys, affected[r["id"]]) for r in rows]
