"""Logistics' part of a case's access and portability export, asked for by inquiries over
`rpc.logistics.case_export.v1`: the bookings with their details opened and their history, and
the disclosure log of what was sent to partners."""

from __future__ import annotations

import uuid
from datetime import datetime

from contracts.exports import CaseExport, CaseExportRequest, ExportedBooking, ExportedTimelineEntry
from services.logistics import domain
from services.logistics.store import bookings
from services.runtime.access import audit
from services.runtime.core.db import Connection, Pool
from services.runtime.privacy import disclosures
from services.runtime.privacy.crypto import KeyRing

_PAGE = 100


async def export_case(pool: Pool, keys: KeyRing, request: CaseExportRequest) -> CaseExport:
    # One snapshot: a booking offered while the export is read appears with its disclosure.
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        bookings = [
            await _exported(conn, booking)
            for booking in await _bookings_of(conn, keys, request.inquiry_id)
        ]
        return CaseExport(
            inquiry_id=request.inquiry_id,
            bookings=tuple(bookings),
            disclosures=tuple(await disclosures.of_case(conn, request.inquiry_id)),
            staff_reads=tuple(await audit.reads_of_case(conn, request.inquiry_id)),
        )


async def _exported(conn: Connection, booking: domain.Booking) -> ExportedBooking:
    timeline = await bookings.timeline(conn, booking.id)
    return ExportedBooking(
        booking_id=str(booking.id),
        kind=booking.kind,
        status=booking.status,
        details=booking.details,
        partner_id=booking.partner_id,
        progress=booking.progress,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
        erased_at=booking.erased_at,
        timeline=tuple(
            ExportedTimelineEntry(
                at=e.at, entry=e.entry, status=e.status, partner_id=e.partner_id, detail=e.detail
            )
            for e in timeline
        ),
    )


async def _bookings_of(conn: Connection, keys: KeyRing, inquiry_id: str) -> list[domain.Booking]:
    found: list[domain.Booking] = []
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        page = await bookings.list_bookings(
            conn, keys, inquiry_id=inquiry_id, status=None, kind=None, after=after, limit=_PAGE
        )
        found += page
        if len(page) < _PAGE:
            return found
        after = (page[-1].created_at, page[-1].id)
