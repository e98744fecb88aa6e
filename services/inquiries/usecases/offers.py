"""Treatment offers: sent by coordinators (a new version supersedes the open one), accepted by
the patient or a coordinator, expired by the scheduler once their validity passes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import structlog

from services.inquiries.domain import offers
from services.inquiries.domain.commands import OfferForm
from services.inquiries.domain.model import PATIENT, OfferState, aad
from services.inquiries.domain.views import OfferView
from services.inquiries.store import cases
from services.inquiries.store import offers as store
from services.inquiries.store.cases import CaseRow
from services.inquiries.store.privacy import current_consents
from services.inquiries.usecases.cases import Stamp, case_of, lock, lock_for_patient, save
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import NotFound
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

log = structlog.get_logger(__name__)
EXPIRY_BATCH = 100  # offers expired per transaction


async def send_offer(
    pool: Pool,
    outbox: Outbox,
    keys: KeyRing,
    inquiry_id: uuid.UUID,
    offer: OfferForm,
    stamp: Stamp,
) -> None:
    by, now = stamp.by, stamp.now
    async with transaction(pool) as conn:
        row = await lock(conn, inquiry_id, stamp.expected_version)
        version = await store.next_offer_version(conn, inquiry_id)
        change = offers.send(
            case_of(row),
            await current_consents(conn, inquiry_id),
            offer,
            version=version,
            by=by,
            now=now,
        )
        # Saved first: the change closes the offer still open, which must not be this one.
        await save(conn, outbox, inquiry_id, change)
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


async def accept_offer(
    pool: Pool, outbox: Outbox, inquiry_id: uuid.UUID, offer_version: int, stamp: Stamp
) -> None:
    """A coordinator accepts one offer version on the patient's behalf."""
    async with transaction(pool) as conn:
        row = await lock(conn, inquiry_id, stamp.expected_version)
        await _accept(conn, outbox, row, offer_version, by=stamp.by, now=stamp.now)


async def accept_offer_as_patient(
    pool: Pool,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    offer_version: int,
    *,
    token_hash: bytes,
    now: datetime,
) -> None:
    """The patient, with their token, accepts one offer version."""
    async with transaction(pool) as conn:
        row = await lock_for_patient(conn, inquiry_id, token_hash)
        await _accept(conn, outbox, row, offer_version, by=PATIENT, now=now)


async def _accept(
    conn: Connection, outbox: Outbox, row: CaseRow, offer_version: int, *, by: str, now: datetime
) -> None:
    consents = await current_consents(conn, row.id)
    found = await store.find_offer(conn, row.id, offer_version)
    offer = (
        None
        if found is None
        else offers.Offer(
            version=found.version,
            state=cast(OfferState, found.state),
            valid_until=found.valid_until,
        )
    )
    change = offers.accept(case_of(row), consents, offer, version=offer_version, by=by, now=now)
    await save(conn, outbox, row.id, change)


async def expire_due(
    pool: Pool, outbox: Outbox, *, now: datetime, limit: int = EXPIRY_BATCH
) -> int:
    """Expire open offers past their validity, and their cases with them; returns how many."""
    async with transaction(pool) as conn:
        due = await store.claim_due_offers(conn, now, limit)
        for offer in due:
            row = await cases.find_case(conn, offer.inquiry_id)  # locked by the claim
            if row is None:  # pragma: no cover - the claim joined the case
                raise NotFound(f"no inquiry {offer.inquiry_id}")
            change = offers.expire(
                case_of(row),
                offers.Offer(version=offer.version, state="open", valid_until=offer.valid_until),
                now=now,
            )
            await save(conn, outbox, offer.inquiry_id, change)
    if due:
        log.info("offers expired", count=len(due))
    return len(due)


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
