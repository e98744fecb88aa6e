"""The coordinators' commands and views of a case, each command one transaction through
`lifecycle`: lock, compare the version, decide, save, announce."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import msgspec

from contracts.inquiries import InquiryConfirmed, InquiryDischarged
from contracts.registry import INQUIRY_CONFIRMED, INQUIRY_DISCHARGED
from services.inquiries import store
from services.inquiries.domain import (
    STATUSES,
    TRANSITIONS,
    arrival_bookings,
    check_partner_sharing,
    check_plain_transition,
    check_processing_allowed,
    check_transition,
    confirmation_problems,
    discharge_bookings,
    discharge_problems,
    traveller,
)
from services.inquiries.forms import (
    CasePage,
    CaseSummary,
    CaseView,
    Confirmation,
    ConsentEntry,
    Discharge,
    NoteView,
    Transition,
)
from services.inquiries.lifecycle import aad, lock, move, personal_data, status_of
from services.inquiries.offers import offer_views
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import BadRequest, FieldProblem, Invalid, NotFound
from services.runtime.http.cursors import AwareDatetime, decode_cursor, encode_cursor
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy import disclosures
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

MAX_PAGE = 100


async def transition(
    pool: Pool,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    change: Transition,
    *,
    by: str,
    expected_version: int,
    now: datetime,
) -> store.CaseRow:
    async with transaction(pool) as conn:
        row = await lock(conn, inquiry_id, expected_version)
        check_processing_allowed(await store.current_consents(conn, inquiry_id))
        check_plain_transition(status_of(row), change.to)
        return await move(conn, outbox, row, change.to, by=by, now=now, reason=change.reason)


async def assign(
    pool: Pool,
    inquiry_id: uuid.UUID,
    coordinator: str | None,
    *,
    by: str,
    expected_version: int,
    now: datetime,
) -> store.CaseRow:
    async with transaction(pool) as conn:
        await lock(conn, inquiry_id, expected_version)
        row = await store.set_coordinator(conn, inquiry_id, coordinator, now)
        await store.insert_timeline(
            conn, inquiry_id, "assigned", {"coordinator": coordinator, "by": by}, now
        )
        return row


async def add_note(
    pool: Pool, keys: KeyRing, inquiry_id: uuid.UUID, text: str, *, author: str, now: datetime
) -> NoteView:
    """Notes are appended, never edited, so two coordinators writing at once lose nothing: no
    version is needed and the case's version does not change."""
    note_id = uuid.uuid4()
    async with transaction(pool) as conn:
        if await store.find_case(conn, inquiry_id) is None:
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
    *,
    by: str,
    expected_version: int,
    now: datetime,
) -> store.CaseRow:
    """Record the payment and the travel plan, and ask logistics to book each planned service."""
    async with transaction(pool) as conn:
        row = await lock(conn, inquiry_id, expected_version)
        consents = await store.current_consents(conn, inquiry_id)
        check_processing_allowed(consents)
        check_transition(status_of(row), "confirmed")
        if problems := confirmation_problems(confirmation, now.date()):
            raise Invalid(problems)
        patient = traveller(personal_data(keys, row).patient)
        bookings = arrival_bookings(confirmation.plan, patient)
        check_partner_sharing(consents, bookings)
        await _record(conn, keys, inquiry_id, "confirmation", confirmation, by, now)
        moved = await move(conn, outbox, row, "confirmed", by=by, now=now)
        await store.insert_timeline(
            conn,
            inquiry_id,
            "confirmed",
            {"bookings": [b.__struct_config__.tag for b in bookings]},
            now,
        )
        await _request_bookings(
            conn,
            outbox,
            INQUIRY_CONFIRMED.subject(),
            InquiryConfirmed(
                inquiry_id=str(inquiry_id),
                version=moved.version,
                bookings=bookings,
                confirmed_at=now,
            ),
            now,
        )
        return moved


async def discharge(
    pool: Pool,
    outbox: Outbox,
    keys: KeyRing,
    inquiry_id: uuid.UUID,
    record: Discharge,
    *,
    by: str,
    expected_version: int,
    now: datetime,
) -> store.CaseRow:
    """Record fit-to-fly and medication, and ask for the return transfer and the shipment."""
    async with transaction(pool) as conn:
        row = await lock(conn, inquiry_id, expected_version)
        consents = await store.current_consents(conn, inquiry_id)
        check_processing_allowed(consents)
        check_transition(status_of(row), "discharged")
        if problems := discharge_problems(record):
            raise Invalid(problems)
        confirmation = await confirmation_of(conn, keys, inquiry_id)
        if confirmation is None:  # pragma: no cover - confirmed precedes in_treatment
            raise NotFound(f"inquiry {inquiry_id} has no confirmation")
        patient = traveller(personal_data(keys, row).patient)
        bookings = discharge_bookings(record, confirmation.plan.clinic, patient)
        check_partner_sharing(consents, bookings)
        await _record(conn, keys, inquiry_id, "discharge", record, by, now)
        moved = await move(conn, outbox, row, "discharged", by=by, now=now)
        await store.insert_timeline(
            conn,
            inquiry_id,
            "discharged",
            {
                "fit_to_fly": record.fit_to_fly.isoformat(),
                "bookings": [b.__struct_config__.tag for b in bookings],
            },
            now,
        )
        await _request_bookings(
            conn,
            outbox,
            INQUIRY_DISCHARGED.subject(),
            InquiryDischarged(
                inquiry_id=str(inquiry_id),
                version=moved.version,
                fit_to_fly=record.fit_to_fly,
                bookings=bookings,
                discharged_at=now,
            ),
            now,
        )
        return moved


async def _request_bookings(
    conn: Connection,
    outbox: Outbox,
    subject: str,
    event: InquiryConfirmed | InquiryDischarged,
    now: datetime,
) -> None:
    """Announce the step; its booking requests carry the traveller's data to logistics, which
    the disclosure log records (a step without services to book discloses nothing)."""
    # Its bookings name the traveller: erasing the case deletes it from the stream.
    event_id = await outbox.emit(conn, subject, event, erasure_key=event.inquiry_id)
    if event.bookings:
        await disclosures.record(
            conn,
            inquiry_id=event.inquiry_id,
            kind="booking_request",
            recipient_type="service",
            recipient="logistics",
            fields=disclosures.carried_fields(event),
            reference=event_id,
            at=now,
        )


async def _record(
    conn: Connection,
    keys: KeyRing,
    inquiry_id: uuid.UUID,
    kind: str,
    body: Confirmation | Discharge,
    by: str,
    now: datetime,
) -> None:
    sealed = keys.encrypt_json(body, aad=aad(inquiry_id, kind))
    await store.insert_case_record(
        conn, inquiry_id=inquiry_id, kind=kind, body=to_column(sealed), recorded_by=by, now=now
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


async def case_view(pool: Pool, keys: KeyRing, inquiry_id: uuid.UUID) -> CaseView:
    async with pool.acquire() as conn:
        row = await store.find_case(conn, inquiry_id)
        if row is None:
            raise NotFound(f"no inquiry {inquiry_id}")
        personal = None if row.personal is None else personal_data(keys, row)
        status = status_of(row)
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
            timeline=await store.timeline(conn, inquiry_id),
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


async def consent_log(conn: Connection, inquiry_id: uuid.UUID) -> list[ConsentEntry]:
    return [
        msgspec.convert(msgspec.structs.asdict(c), ConsentEntry)
        for c in await store.consents(conn, inquiry_id)
    ]


async def consents_of(pool: Pool, inquiry_id: uuid.UUID) -> list[ConsentEntry]:
    async with pool.acquire() as conn:
        if await store.find_case(conn, inquiry_id) is None:
            raise NotFound(f"no inquiry {inquiry_id}")
        return await consent_log(conn, inquiry_id)


class CaseQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The list filters as given in the query string, checked all at once by `_filter`."""

    status: str | None = None
    condition_slug: str | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    coordinator: str | None = None
    cursor: str | None = None
    limit: int = 50


async def list_cases(pool: Pool, query: CaseQuery) -> CasePage:
    where, after = _filter(query)
    async with pool.acquire() as conn:
        rows = await store.list_cases(conn, where, after=after, limit=query.limit + 1)
    page = rows[: query.limit]
    last = page[-1] if len(rows) > query.limit else None
    return CasePage(
        items=[
            CaseSummary(
                id=r.id,
                status=status_of(r),
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
    )
    return where, after


def _day(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)
