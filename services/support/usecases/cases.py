"""Opening a case (from any door), reading it, writing in its thread, acknowledging and
resolving it; erasing its thread with the patient's data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from contracts.registry import SUPPORT_CASE_REPLIED, SUPPORT_INTERPRETER_REQUESTED
from contracts.support import InterpreterRequested
from services.runtime.core.db import Connection
from services.runtime.core.errors import Conflict, NotFound
from services.runtime.privacy.crypto import from_column, to_column
from services.support.domain import replies, routing
from services.support.domain.model import Author, Case, CaseView, Message, NewCase, TimelineEntry
from services.support.store import cases, rota
from services.support.usecases.collaborators import Desk


class _Retried(Exception):
    def __init__(self, case_id: uuid.UUID) -> None:
        super().__init__(str(case_id))
        self.case_id = case_id


def _unless_first(first: uuid.UUID | None, case_id: uuid.UUID) -> None:
    """An earlier opening with the key made `first`: this one is rolled back (by raising)."""
    if first is not None and first != case_id:
        raise _Retried(first)


async def open_case(d: Desk, new: NewCase, *, retry_key: tuple[str, str] | None = None) -> Case:
    """`retry_key` (who, Idempotency-Key): a retry answers the case the first request opened."""
    try:
        async with d.pool.acquire() as conn, conn.transaction():
            case = await open_case_in(conn, d, new, datetime.now(UTC))
            if retry_key is not None:
                scope, key = retry_key
                first = await cases.claim_opening(conn, scope, key, case.id, case.opened_at)
                _unless_first(first, case.id)
            return case
    except _Retried as retried:
        async with d.pool.acquire() as conn:
            return await _written(conn, retried.case_id)


async def open_case_in(conn: Connection, d: Desk, new: NewCase, now: datetime) -> Case:
    """In the caller's transaction (an HTTP request's, or the inbox's for a fact)."""
    policy = await rota.policy(conn, routing.priority_of(new.category, new.priority))
    opened = routing.open_case(
        new,
        on_call=await rota.on_call(conn, now),
        policy=policy,
        now=now,
        emergency_number=d.emergency_number,
        clinic_phone=d.clinic_phone,
    )
    case_id = uuid.uuid4()
    await cases.insert_case(
        conn,
        case_id,
        new,
        priority=opened.priority,
        assignee=None if opened.assignee is None else opened.assignee.person,
        escalate_at=opened.escalate_at,
        resolve_by=opened.resolve_by,
        now=now,
    )
    await _write(conn, d, case_id, new.author, new.author_name, new.message, now)
    if opened.auto_answer is not None:
        await _write(conn, d, case_id, "system", None, opened.auto_answer, now)
    for entry in opened.timeline:
        await cases.insert_timeline(conn, case_id, entry)
    if opened.interpreter:
        await d.outbox.emit(
            conn,
            SUPPORT_INTERPRETER_REQUESTED.address,
            InterpreterRequested(
                case_id=str(case_id),
                inquiry_id=None if new.inquiry_id is None else str(new.inquiry_id),
                language=new.language,
                requested_at=now,
            ),
        )
    return await _written(conn, case_id)


async def _written(conn: Connection, case_id: uuid.UUID) -> Case:
    """The case as this transaction just wrote it."""
    found = await cases.get_case(conn, case_id)
    if found is None:  # written in the caller's transaction: only a bug gets here
        raise RuntimeError(f"support case {case_id} vanished in its own transaction")
    return found


async def _write(
    conn: Connection,
    d: Desk,
    case_id: uuid.UUID,
    author: Author,
    author_name: str | None,
    body: str,
    now: datetime,
) -> None:
    message_id = uuid.uuid4()
    sealed = to_column(d.keys.encrypt(body.encode(), aad=cases.message_aad(case_id, message_id)))
    await cases.insert_message(
        conn,
        case_id,
        message_id,
        at=now,
        author=author,
        author_name=author_name,
        sealed_body=sealed,
    )


async def patient_case(d: Desk, case_id: uuid.UUID, token: str) -> Case:
    """The case, when the patient's access token opens the inquiry it belongs to; 404 alike
    for a case that does not exist and one that is not theirs: nothing to enumerate."""
    async with d.pool.acquire() as conn:
        case = await cases.get_case(conn, case_id)
    if (
        case is None
        or case.inquiry_id is None
        or not await d.check_token(str(case.inquiry_id), token)
    ):
        raise NotFound(f"no support case {case_id} for this access token")
    return case


async def check_patient(d: Desk, inquiry_id: uuid.UUID, token: str) -> None:
    if not await d.check_token(str(inquiry_id), token):
        raise NotFound(f"no inquiry {inquiry_id} for this access token")


async def case_view(d: Desk, case_id: uuid.UUID) -> CaseView:
    # One snapshot for the case, its timeline and its thread: read one by one, an escalation
    # committed in between showed its timeline entry beside the assignee it replaced.
    async with (
        d.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        case = await cases.get_case(conn, case_id)
        if case is None:
            raise NotFound(f"support case {case_id} does not exist")
        entries = await cases.timeline(conn, case_id)
        sealed = await cases.messages(conn, case_id)
    thread = [
        Message(
            id=m.id,
            at=m.at,
            author=m.author,  # type: ignore[arg-type]  # the table's CHECK allows only Author
            author_name=m.author_name,
            body=d.keys.decrypt(
                from_column(m.sealed_body), aad=cases.message_aad(case_id, m.id)
            ).decode(),
        )
        for m in sealed
    ]
    return CaseView(
        id=case.id,
        status=case.status,
        category=case.category,
        priority=case.priority,
        language=case.language,
        origin=case.origin,
        inquiry_id=case.inquiry_id,
        booking_id=case.booking_id,
        assignee=case.assignee,
        opened_at=case.opened_at,
        acknowledged_at=case.acknowledged_at,
        resolved_at=case.resolved_at,
        timeline=entries,
        messages=thread,
    )


async def write(
    d: Desk, case_id: uuid.UUID, author: Author, author_name: str | None, body: str
) -> None:
    now = datetime.now(UTC)
    async with d.pool.acquire() as conn, conn.transaction():
        case = await cases.get_case(conn, case_id, lock=True)
        if case is None:
            raise NotFound(f"support case {case_id} does not exist")
        if case.erased_at is not None:
            raise Conflict(f"support case {case_id} was erased")
        await _write(conn, d, case_id, author, author_name, body, now)
        await cases.insert_timeline(
            conn,
            case_id,
            TimelineEntry(at=now, kind="message", person=author_name, detail=author),
        )
        if (told := replies.patient_told(case, author)) is not None:
            await d.outbox.emit(conn, SUPPORT_CASE_REPLIED.address, told)


async def acknowledge(d: Desk, case_id: uuid.UUID, person: str) -> Case:
    now = datetime.now(UTC)
    async with d.pool.acquire() as conn, conn.transaction():
        case = await cases.get_case(conn, case_id, lock=True)
        if case is None:
            raise NotFound(f"support case {case_id} does not exist")
        if case.status != "open":
            raise Conflict(f"support case {case_id} is {case.status}, not open")
        await cases.acknowledge(conn, case_id, person, now)
        await cases.insert_timeline(
            conn, case_id, TimelineEntry(at=now, kind="acknowledged", person=person)
        )
        return await _written(conn, case_id)


async def resolve(d: Desk, case_id: uuid.UUID, person: str) -> Case:
    now = datetime.now(UTC)
    async with d.pool.acquire() as conn, conn.transaction():
        case = await cases.get_case(conn, case_id, lock=True)
        if case is None:
            raise NotFound(f"support case {case_id} does not exist")
        if case.status == "resolved":
            raise Conflict(f"support case {case_id} is resolved already")
        await cases.resolve(conn, case_id, person, now)
        await cases.insert_timeline(
            conn, case_id, TimelineEntry(at=now, kind="resolved", person=person)
        )
        return await _written(conn, case_id)


async def erase_inquiry(conn: Connection, inquiry_id: str, now: datetime) -> None:
    """In the inbox's transaction: every case of the erased inquiry loses its thread."""
    for case_id in await cases.cases_of_inquiry(conn, inquiry_id):
        await cases.erase_thread(conn, case_id, now)
        await cases.insert_timeline(
            conn, case_id, TimelineEntry(at=now, kind="erased", detail="thread erased")
        )


async def open_cases(d: Desk, limit: int) -> list[Case]:
    async with d.pool.acquire() as conn:
        return await cases.open_cases(conn, limit)
