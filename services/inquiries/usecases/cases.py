"""What every use case of a case does the same way: load the case locked (by id and If-Match,
or by the patient's token), open its sealed personal data, and save a domain Change (offers
closed, new state, timeline, events through the outbox) in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import msgspec

from contracts.inquiries import InquiryStatus
from services.inquiries.domain.lifecycle import check_version
from services.inquiries.domain.model import Case, Change, PersonalData, aad
from services.inquiries.store import cases, offers, traces
from services.inquiries.store.cases import CaseRow
from services.runtime.core import tracing
from services.runtime.core.db import Connection
from services.runtime.core.errors import NotFound
from services.runtime.core.tracing import NO_TRACE
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy import disclosures
from services.runtime.privacy.crypto import KeyRing, from_column


class Stamp(msgspec.Struct, frozen=True, kw_only=True):
    """Who asks for a change to a case, the version of the case it is based on (If-Match), and
    when."""

    by: str
    expected_version: int
    now: datetime


def case_of(row: CaseRow) -> Case:
    return Case(
        id=row.id,
        # The table only ever holds lifecycle states.
        status=cast(InquiryStatus, row.status),
        version=row.version,
        coordinator=row.coordinator,
    )


async def lock(conn: Connection, inquiry_id: uuid.UUID, expected_version: int | None) -> CaseRow:
    """The case, locked until the transaction ends, at the version the caller's change is based
    on: every write to a case goes through here or `lock_for_patient`."""
    row = await cases.lock_case(conn, inquiry_id)
    if row is None:
        raise NotFound(f"no inquiry {inquiry_id}")
    check_version(case_of(row), expected_version)
    return row


async def lock_for_patient(conn: Connection, inquiry_id: uuid.UUID, token_hash: bytes) -> CaseRow:
    row = await cases.lock_case_by_token(conn, inquiry_id, token_hash)
    if row is None:
        # The same answer whether the inquiry exists or not: nothing to enumerate.
        raise NotFound(f"no inquiry {inquiry_id} for this access token")
    return row


def personal_data(keys: KeyRing, row: CaseRow) -> PersonalData | None:
    """The patient's data, opened; None once erased (the domain decides what that refuses)."""
    if row.personal is None:
        return None
    return keys.decrypt_json(
        from_column(row.personal), aad=aad(row.id, "personal"), type=PersonalData
    )


async def save(conn: Connection, outbox: Outbox, inquiry_id: uuid.UUID, change: Change) -> None:
    await record(conn, inquiry_id, change)
    await announce(conn, outbox, inquiry_id, change)


async def record(conn: Connection, inquiry_id: uuid.UUID, change: Change) -> None:
    """The change's rows: offers closed, the case's new state, its timeline."""
    for closure in change.offers_closed:
        if closure.version is None:
            await offers.close_open_offers(conn, inquiry_id, closure.state, change.at)
        else:
            await offers.close_offer(
                conn,
                inquiry_id,
                closure.version,
                closure.state,
                change.at,
                accepted_by=closure.accepted_by,
            )
    if change.case is not None:
        await cases.update_case(conn, change.case, change.at)
    for entry in change.timeline:
        await cases.insert_timeline(conn, inquiry_id, entry.kind, entry.detail, entry.at)


async def announce(conn: Connection, outbox: Outbox, inquiry_id: uuid.UUID, change: Change) -> None:
    """The change's events, through the outbox; an event that carries the traveller's data to
    another service is recorded in the disclosure log under its id."""
    if not change.announcements:
        return
    case = await traces.of_case(conn, inquiry_id)
    with tracing.joined(NO_TRACE if case is None else case.trace, "inquiries case change"):
        await _emit(conn, outbox, inquiry_id, change, case)


async def _emit(
    conn: Connection,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    change: Change,
    case: traces.CaseTrace | None,
) -> None:
    for announcement in change.announcements:
        event_id = await outbox.emit(
            conn,
            announcement.subject,
            announcement.event,
            erasure_key=announcement.erasure_key,
            # The case's own chain, whoever acts on it now.
            correlation_id=None if case is None else case.correlation_id,
        )
        if announcement.disclosed_to is not None:
            await disclosures.record(
                conn,
                inquiry_id=str(inquiry_id),
                kind="booking_request",
                recipient_type="service",
                recipient=announcement.disclosed_to,
                fields=disclosures.carried_fields(announcement.event),
                reference=event_id,
                at=change.at,
            )
