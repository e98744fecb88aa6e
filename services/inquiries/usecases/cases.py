"""What every use case of a case does the same way: load the case locked (by id and If-Match,
or by the patient's token), open its sealed personal data, and save a domain Change (offers
closed, new state, timeline, events through the outbox) in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, cast

import msgspec

from contracts.inquiries import ConsentBasis, ConsentPurpose, InquiryStatus
from contracts.logistics import BookingDetails
from services.inquiries.domain.consent import HeldBookings
from services.inquiries.domain.lifecycle import check_version
from services.inquiries.domain.model import Case, Change, PersonalData, aad
from services.inquiries.store import cases, offers, privacy, traces
from services.inquiries.store.cases import CaseRow
from services.runtime.core import tracing
from services.runtime.core.db import Connection
from services.runtime.core.errors import NotFound
from services.runtime.core.tracing import NO_TRACE
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy import disclosures
from services.runtime.privacy.crypto import KeyRing, from_column, to_column


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


async def save(
    conn: Connection,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    change: Change,
    keys: KeyRing | None = None,
) -> None:
    """`keys` seals the booking requests a change holds back (a change that may hold some
    passes them)."""
    await record(conn, inquiry_id, change, keys)
    await announce(conn, outbox, inquiry_id, change)


async def record(
    conn: Connection, inquiry_id: uuid.UUID, change: Change, keys: KeyRing | None = None
) -> None:
    """The change's rows: offers closed, the case's new state, its timeline, the booking
    requests held back (sealed) and released."""
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
    for held in change.held:
        if keys is None:  # pragma: no cover - the steps that hold requests pass the key ring
            raise RuntimeError("held booking requests need the key ring to be sealed")
        held_id = await privacy.insert_held_request(
            conn,
            inquiry_id=inquiry_id,
            step=held.step,
            purpose="partner_sharing",
            held_at=held.held_at,
        )
        sealed = keys.encrypt_json(held.bookings, aad=held_aad(inquiry_id, held_id))
        await privacy.seal_held_request(conn, held_id, to_column(sealed))
    if change.released:
        await privacy.release_requests(conn, list(change.released), change.at)


def held_aad(inquiry_id: uuid.UUID, held_id: int) -> bytes:
    return aad(inquiry_id, f"held:{held_id}")


async def held_requests(
    conn: Connection, keys: KeyRing, inquiry_id: uuid.UUID
) -> tuple[HeldBookings, ...]:
    """The booking requests still held back, opened (an erased case's have no body left)."""
    return tuple(
        HeldBookings(
            id=row.id,
            step=cast(Literal["confirmed", "discharged"], row.step),
            bookings=()
            if row.body is None
            else keys.decrypt_json(
                from_column(row.body),
                aad=held_aad(inquiry_id, row.id),
                type=tuple[BookingDetails, ...],
            ),
            held_at=row.held_at,
        )
        for row in await privacy.waiting_requests(conn, inquiry_id)
    )


async def announce(conn: Connection, outbox: Outbox, inquiry_id: uuid.UUID, change: Change) -> None:
    """The change's events, through the outbox; an event that carries the traveller's data to
    another service is recorded in the disclosure log under its id."""
    if not change.announcements:
        return
    case = await traces.of_case(conn, inquiry_id)
    with tracing.joined(NO_TRACE if case is None else case.trace, "inquiries case change"):
        await announce_under(conn, outbox, inquiry_id, change, case)


async def announce_under(
    conn: Connection,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    change: Change,
    case: traces.CaseTrace | None,
) -> None:
    """`announce`, for a caller that holds the case's trace already (the submission, which
    has just written it, within that trace): no read of it back."""
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
            relied_on = (
                None
                if announcement.relies_on is None
                else await consent_record(conn, inquiry_id, announcement.relies_on)
            )
            await disclosures.record(
                conn,
                inquiry_id=str(inquiry_id),
                kind="booking_request",
                recipient_type="service",
                recipient=announcement.disclosed_to,
                fields=disclosures.carried_fields(announcement.event),
                reference=event_id,
                at=change.at,
                consent=relied_on,
            )


async def consent_record(
    conn: Connection, inquiry_id: uuid.UUID, purpose: ConsentPurpose
) -> ConsentBasis | None:
    """The patient's grant of `purpose` in force, as a disclosure relies on it."""
    latest = await privacy.latest_consent(conn, inquiry_id, purpose)
    if latest is None or not latest.granted:
        return None
    return ConsentBasis(purpose=purpose, notice_version=latest.version, given_at=latest.at)


async def sharing_consent(conn: Connection, inquiry_id: uuid.UUID) -> ConsentBasis | None:
    return await consent_record(conn, inquiry_id, "partner_sharing")
