"""Casework: the coordinators' commands on a case (plain steps, assignment, notes, confirmation,
discharge), each one transaction: lock, compare the version, let the domain decide, save; the
case views; and the bookings logistics reports, onto the patient's timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import msgspec

from contracts.logistics import BookingStatusChanged
from services.inquiries.domain import casework
from services.inquiries.domain import consent as consent_rules
from services.inquiries.domain.commands import Confirmation, Discharge, Transition
from services.inquiries.domain.lifecycle import STATUSES, TRANSITIONS
from services.inquiries.domain.model import aad
from services.inquiries.domain.views import CasePage, CaseSummary, CaseView, NoteView
from services.inquiries.store import cases
from services.inquiries.store import casework as store
from services.inquiries.store.privacy import current_consents
from services.inquiries.usecases.bookings import arrangement_aad
from services.inquiries.usecases.cases import (
    Stamp,
    case_of,
    held_requests,
    lock,
    personal_data,
    save,
    sharing_consent,
)
from services.inquiries.usecases.offers import offer_views
from services.inquiries.usecases.privacy.consent import consent_log, consent_states
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import BadRequest, FieldProblem, NotFound
from services.runtime.http.cursors import AwareDatetime, decode_cursor, encode_cursor
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

MAX_PAGE = 100


async def transition(
    pool: Pool,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    change: Transition,
    stamp: Stamp,
) -> None:
    async with transaction(pool) as conn:
        row = await lock(conn, inquiry_id, stamp.expected_version)
        consents = await current_consents(conn, inquiry_id)
        decided = casework.transition(case_of(row), consents, change, by=stamp.by, now=stamp.now)
        await save(conn, outbox, inquiry_id, decided)


async def assign(
    pool: Pool,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    coordinator: str | None,
    stamp: Stamp,
    *,
    viewer: str | None = None,
) -> None:
    async with transaction(pool) as conn:
        row = await lock(conn, inquiry_id, stamp.expected_version)
        change = casework.assign(
            case_of(row), coordinator, by=stamp.by, now=stamp.now, viewer=viewer
        )
        await save(conn, outbox, inquiry_id, change)


async def add_note(
    pool: Pool, keys: KeyRing, inquiry_id: uuid.UUID, text: str, *, author: str, now: datetime
) -> NoteView:
    """Notes are appended, never edited, so two coordinators writing at once lose nothing: no
    version is needed and the case's version does not change."""
    note_id = uuid.uuid4()
    async with transaction(pool) as conn:
        if await cases.find_case(conn, inquiry_id) is None:
            raise NotFound(f"no inquiry {inquiry_id}")
        sealed = keys.encrypt(text.encode(), aad=aad(inquiry_id, f"note:{note_id}"))
        await store.insert_note(
            conn,
            id=note_id,
            inquiry_id=inquiry_id,
            author=author,
            body=to_column(sealed),
            now=now,
        )
    return NoteView(id=note_id, author=author, text=text, at=now)


async def confirm(
    pool: Pool,
    outbox: Outbox,
    keys: KeyRing,
    inquiry_id: uuid.UUID,
    confirmation: Confirmation,
    stamp: Stamp,
) -> None:
    """Record the payment and the travel plan, and ask logistics to book each planned service."""
    async with transaction(pool) as conn:
        row = await lock(conn, inquiry_id, stamp.expected_version)
        change = casework.confirm(
            case_of(row),
            await current_consents(conn, inquiry_id),
            confirmation,
            personal_data(keys, row),
            by=stamp.by,
            now=stamp.now,
            sharing=await sharing_consent(conn, inquiry_id),
        )
        await _record(conn, keys, inquiry_id, "confirmation", confirmation, stamp)
        await save(conn, outbox, inquiry_id, change, keys)


async def discharge(
    pool: Pool,
    outbox: Outbox,
    keys: KeyRing,
    inquiry_id: uuid.UUID,
    record: Discharge,
    stamp: Stamp,
) -> None:
    """Record fit-to-fly and medication, and ask for the return transfer and the shipment."""
    async with transaction(pool) as conn:
        row = await lock(conn, inquiry_id, stamp.expected_version)
        change = casework.discharge(
            case_of(row),
            await current_consents(conn, inquiry_id),
            record,
            await confirmation_of(conn, keys, inquiry_id),
            personal_data(keys, row),
            by=stamp.by,
            now=stamp.now,
            sharing=await sharing_consent(conn, inquiry_id),
        )
        await _record(conn, keys, inquiry_id, "discharge", record, stamp)
        await save(conn, outbox, inquiry_id, change, keys)


async def _record(
    conn: Connection,
    keys: KeyRing,
    inquiry_id: uuid.UUID,
    kind: str,
    body: Confirmation | Discharge,
    stamp: Stamp,
) -> None:
    sealed = keys.encrypt_json(body, aad=aad(inquiry_id, kind))
    await store.insert_case_record(
        conn,
        inquiry_id=inquiry_id,
        kind=kind,
        body=to_column(sealed),
        recorded_by=stamp.by,
        now=stamp.now,
    )


async def confirmation_of(
    conn: Connection, keys: KeyRing, inquiry_id: uuid.UUID
) -> Confirmation | None:
    raw = await store.case_record(conn, inquiry_id, "confirmation")
    if raw is None:
        return None
    return keys.decrypt_json(
        from_column(raw), aad=aad(inquiry_id, "confirmation"), type=Confirmation
    )


async def _discharge(conn: Connection, keys: KeyRing, inquiry_id: uuid.UUID) -> Discharge | None:
    raw = await store.case_record(conn, inquiry_id, "discharge")
    if raw is None:
        return None
    return keys.decrypt_json(from_column(raw), aad=aad(inquiry_id, "discharge"), type=Discharge)


async def in_view(pool: Pool, inquiry_id: uuid.UUID, viewer: str | None) -> bool:
    """Whether the case is one `viewer` may see (see domain.casework.visible_to). An unknown
    case is left to the route, which answers 404 for it anyway."""
    if viewer is None:
        return True
    async with pool.acquire() as conn:
        row = await cases.find_case(conn, inquiry_id)
    return row is None or casework.visible_to(row.coordinator, viewer)


async def case_view(pool: Pool, keys: KeyRing, inquiry_id: uuid.UUID) -> CaseView:
    async with pool.acquire() as conn:
        row = await cases.find_case(conn, inquiry_id)
        if row is None:
            raise NotFound(f"no inquiry {inquiry_id}")
        personal = personal_data(keys, row)
        status = case_of(row).status
        return CaseView(
            id=row.id,
            status=status,
            version=row.version,
            allowed_next=list(TRANSITIONS[status]),
            condition_slug=row.condition_slug,
            preferred_country=row.preferred_country,
            services=row.services,
            source=row.source,
            coordinator=row.coordinator,
            submitted_at=row.submitted_at,
            updated_at=row.updated_at,
            patient=personal.patient if personal else None,
            description=personal.description if personal else None,
            diagnoses=list(personal.diagnoses) if personal else [],
            preferred_dates=personal.preferred_dates if personal else None,
            consents=await consent_log(conn, inquiry_id),
            consent=await consent_states(conn, inquiry_id),
            blocked=consent_rules.blocked_steps(
                status,
                await current_consents(conn, inquiry_id),
                await held_requests(conn, keys, inquiry_id),
            ),
            timeline=await cases.timeline(conn, inquiry_id),
            offers=await offer_views(conn, keys, inquiry_id),
            notes=await _notes(conn, keys, inquiry_id),
            confirmation=await confirmation_of(conn, keys, inquiry_id),
            discharge=await _discharge(conn, keys, inquiry_id),
        )


async def _notes(conn: Connection, keys: KeyRing, inquiry_id: uuid.UUID) -> list[NoteView]:
    return [
        NoteView(
            id=note.id,
            author=note.author,
            # An erased note keeps its author and time, not its text.
            text=""
            if note.body is None
            else keys.decrypt(
                from_column(note.body), aad=aad(inquiry_id, f"note:{note.id}")
            ).decode(),
            at=note.at,
        )
        for note in await store.notes(conn, inquiry_id)
    ]


class CaseQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The list filters as given in the query string, checked all at once by `_filter`."""

    status: str | None = None
    condition_slug: str | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    coordinator: str | None = None
    unassigned: bool = False
    offer_expires_before: datetime | None = None
    cursor: str | None = None
    limit: int = 50


async def list_cases(pool: Pool, query: CaseQuery, *, viewer: str | None = None) -> CasePage:
    """`viewer`: a coordinator who sees only their cases and the queue; None sees all."""
    where, after = _filter(query)
    where = msgspec.structs.replace(where, viewer=viewer)
    async with pool.acquire() as conn:
        rows = await store.list_cases(conn, where, after=after, limit=query.limit + 1)
    page = rows[: query.limit]
    last = page[-1] if len(rows) > query.limit else None
    return CasePage(
        items=[
            CaseSummary(
                id=r.id,
                status=case_of(r).status,
                version=r.version,
                condition_slug=r.condition_slug,
                preferred_country=r.preferred_country,
                services=r.services,
                coordinator=r.coordinator,
                submitted_at=r.submitted_at,
                updated_at=r.updated_at,
            )
            for r in page
        ],
        next_cursor=None if last is None else encode_cursor(last.submitted_at, last.id),
    )


def _filter(query: CaseQuery) -> tuple[store.CaseFilter, tuple[datetime, uuid.UUID] | None]:
    problems = []
    if query.status is not None and query.status not in STATUSES:
        problems.append(
            FieldProblem(field="status", message=f"must be one of {', '.join(STATUSES)}")
        )
    if not 1 <= query.limit <= MAX_PAGE:
        problems.append(FieldProblem(field="limit", message=f"must be from 1 to {MAX_PAGE}"))
    if query.submitted_from and query.submitted_to and query.submitted_to < query.submitted_from:
        problems.append(FieldProblem(field="submitted_to", message="is before submitted_from"))
    if query.offer_expires_before is not None and query.offer_expires_before.utcoffset() is None:
        problems.append(
            FieldProblem(field="offer_expires_before", message="needs a time zone offset")
        )
    after = None
    if query.cursor is not None:
        try:
            after = decode_cursor(query.cursor, tuple[AwareDatetime, uuid.UUID])
        except BadRequest as exc:
            problems += exc.problems
    if problems:
        raise BadRequest(problems)
    where = store.CaseFilter(
        status=query.status,
        condition_slug=query.condition_slug,
        submitted_from=_day(query.submitted_from),
        # Inclusive of the whole last day.
        submitted_before=_day(
            query.submitted_to + timedelta(days=1) if query.submitted_to else None
        ),
        coordinator=query.coordinator,
        unassigned=query.unassigned,
        offer_expires_before=query.offer_expires_before,
    )
    return where, after


def _day(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)


async def record_booking_progress(
    conn: Connection, keys: KeyRing, event: BookingStatusChanged
) -> None:
    """The bookings logistics made for the trip, learned from its events (inquiries never asks
    logistics). Events may arrive late or twice: the inbox applies each once, and the newest
    version per booking is kept, so an older event arriving after a newer one adds nothing."""
    if event.inquiry_id is None:
        return
    inquiry_id = _inquiry_id(event.inquiry_id)
    if not await store.hold_inquiry(conn, inquiry_id):
        # Bookings are made for inquiries this service announced: an unknown id is a fault
        # an operator must see (a dead letter), not something to skip quietly.
        raise NotFound(f"booking {event.booking_id} names unknown inquiry {event.inquiry_id}")
    newest = await store.record_booking_progress(
        conn,
        booking_id=event.booking_id,
        inquiry_id=inquiry_id,
        kind=event.kind,
        status=event.to_status,
        version=event.version,
        partner_name=event.partner_name,
        progress=event.progress,
        changed_at=event.changed_at,
        arrangement=None
        if event.arrangement is None
        else to_column(
            keys.encrypt_json(event.arrangement, aad=arrangement_aad(inquiry_id, event.booking_id))
        ),
    )
    entry = casework.booking_progress(event)
    if newest and entry is not None:
        await cases.insert_timeline(conn, inquiry_id, entry.kind, entry.detail, entry.at)


def _inquiry_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(f"inquiry id {text!r} is not an inquiry of this service") from None
