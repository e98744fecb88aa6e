"""Treatment offers: sent by coordinators (a new version supersedes the open one), accepted by
the patient or a coordinator, expired by the scheduler once their validity passes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import cast

import structlog

from contracts.inquiries import InquiryOfferSent
from contracts.registry import INQUIRY_OFFER_SENT
from services.inquiries import store
from services.inquiries.domain import check_processing_allowed, check_transition, offer_problems
from services.inquiries.forms import OfferForm, OfferState, OfferView
from services.inquiries.lifecycle import aad, lock, lock_for_patient, move, status_of
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import Conflict, Invalid, NotFound
from services.runtime.core.pacing import wait_any
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

log = structlog.get_logger(__name__)
EXPIRY = "offer expiry"
EXPIRY_BATCH = 100  # offers expired per transaction


async def send_offer(
    pool: Pool,
    outbox: Outbox,
    keys: KeyRing,
    inquiry_id: uuid.UUID,
    offer: OfferForm,
    *,
    by: str,
    expected_version: int,
    now: datetime,
) -> store.CaseRow:
    async with transaction(pool) as conn:
        row = await lock(conn, inquiry_id, expected_version)
        check_processing_allowed(await store.current_consents(conn, inquiry_id))
        check_transition(status_of(row), "offer_sent")
        if problems := offer_problems(offer, now):
            raise Invalid(problems)
        version = await store.next_offer_version(conn, inquiry_id)
        await store.close_open_offers(conn, inquiry_id, "superseded", now)
        sealed = keys.encrypt_json(offer, aad=aad(inquiry_id, f"offer:{version}"))
        await store.insert_offer(
            conn,
            inquiry_id=inquiry_id,
            version=version,
            body=to_column(sealed),
            valid_until=offer.valid_until,
            sent_by=by,
            now=now,
        )
        moved = await move(conn, outbox, row, "offer_sent", by=by, now=now)
        await store.insert_timeline(
            conn,
            inquiry_id,
            "offer_sent",
            {"offer_version": version, "valid_until": offer.valid_until.isoformat(), "by": by},
            now,
        )
        await outbox.emit(
            conn,
            INQUIRY_OFFER_SENT.subject(),
            InquiryOfferSent(
                inquiry_id=str(inquiry_id),
                offer_version=version,
                valid_until=offer.valid_until,
                sent_at=now,
            ),
        )
        return moved


async def accept_offer(
    pool: Pool,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    offer_version: int,
    *,
    by: str,
    now: datetime,
    expected_version: int | None = None,
    patient_token_hash: bytes | None = None,
) -> store.CaseRow:
    """A coordinator (with the case's version) or the patient (with their token) accepts one
    offer version; a superseded, withdrawn or expired one is refused."""
    async with transaction(pool) as conn:
        if patient_token_hash is not None:
            row = await lock_for_patient(conn, inquiry_id, patient_token_hash)
        else:
            row = await lock(conn, inquiry_id, expected_version)
        check_processing_allowed(await store.current_consents(conn, inquiry_id))
        offer = await store.find_offer(conn, inquiry_id, offer_version)
        if offer is None:
            raise NotFound(f"inquiry {inquiry_id} has no offer version {offer_version}")
        if offer.state == "open" and offer.valid_until <= now:
            raise Conflict(f"offer version {offer_version} expired at {offer.valid_until}")
        if offer.state != "open":
            raise Conflict(f"offer version {offer_version} is {offer.state}, not open")
        moved = await move(conn, outbox, row, "accepted", by=by, now=now)
        await store.close_offer(conn, inquiry_id, offer_version, "accepted", now, accepted_by=by)
        await store.insert_timeline(
            conn, inquiry_id, "offer_accepted", {"offer_version": offer_version, "by": by}, now
        )
        return moved


async def expire_due(
    pool: Pool, outbox: Outbox, *, now: datetime, limit: int = EXPIRY_BATCH
) -> int:
    """Expire open offers past their validity, and their cases with them; returns how many."""
    async with transaction(pool) as conn:
        due = await store.claim_due_offers(conn, now, limit)
        for inquiry_id, version in due:
            await _expire(conn, outbox, inquiry_id, version, now)
    if due:
        log.info("offers expired", count=len(due))
    return len(due)


async def _expire(
    conn: Connection, outbox: Outbox, inquiry_id: uuid.UUID, version: int, now: datetime
) -> None:
    row = await store.find_case(conn, inquiry_id)  # locked by the claim
    if row is None:  # pragma: no cover - the claim joined the case
        raise NotFound(f"no inquiry {inquiry_id}")
    await store.close_offer(conn, inquiry_id, version, "expired", now)
    await move(conn, outbox, row, "expired", by=EXPIRY, now=now)
    await store.insert_timeline(conn, inquiry_id, "offer_expired", {"offer_version": version}, now)


async def run_expiry(pool: Pool, outbox: Outbox, stop: asyncio.Event, interval: float) -> None:
    """The scheduler: the deadlines live in the database, so a restart loses none of them."""
    while not stop.is_set():
        # A full batch means more may be due: carry on before waiting.
        while await expire_due(pool, outbox, now=datetime.now(UTC)) == EXPIRY_BATCH:
            pass
        await wait_any(stop, timeout=interval)


async def offer_views(conn: Connection, keys: KeyRing, inquiry_id: uuid.UUID) -> list[OfferView]:
    views = []
    for offer in await store.offers(conn, inquiry_id):
        body = (
            None
            if offer.body is None
            else keys.decrypt_json(
                from_column(offer.body),
                aad=aad(inquiry_id, f"offer:{offer.version}"),
                type=OfferForm,
            )
        )
        views.append(
            OfferView(
                version=offer.version,
                state=cast(OfferState, offer.state),
                programmes=body.programmes if body else (),
                message=body.message if body else None,
                valid_until=offer.valid_until,
                sent_at=offer.sent_at,
                accepted_by=offer.accepted_by,
            )
        )
    return views
