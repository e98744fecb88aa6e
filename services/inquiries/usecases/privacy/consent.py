"""Consent per purpose: the patient grants or withdraws one at a time, and reads the log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import msgspec

from contracts.inquiries import ConsentPurpose
from services.inquiries.domain import privacy
from services.inquiries.domain.commands import ConsentForm
from services.inquiries.domain.consent import CURRENT_VERSION, PUBLISHED
from services.inquiries.domain.model import PATIENT
from services.inquiries.domain.views import ConsentEntry, ConsentReceipt, PurposeState
from services.inquiries.store import cases
from services.inquiries.store import privacy as store
from services.inquiries.store.intake import find_by_token
from services.inquiries.usecases.cases import case_of, held_requests, lock_for_patient, save
from services.inquiries.usecases.intake import hash_token
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import NotFound
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing


async def record_consent(
    pool: Pool,
    outbox: Outbox,
    keys: KeyRing,
    inquiry_id: uuid.UUID,
    token: str,
    form: ConsentForm,
    *,
    now: datetime,
) -> list[ConsentEntry]:
    """The patient grants or withdraws one purpose; withdrawing stops that processing at once,
    granting partner sharing sends the booking requests held for it (see
    domain.privacy.record_consent). Answers the whole log."""
    async with transaction(pool) as conn:
        row = await lock_for_patient(conn, inquiry_id, hash_token(token))
        change = privacy.record_consent(
            case_of(row), form, held=await held_requests(conn, keys, inquiry_id), now=now
        )
        await store.insert_consent(
            conn,
            inquiry_id=inquiry_id,
            purpose=form.purpose,
            granted=form.granted,
            version=form.version,
            given_by=PATIENT,
            now=now,
        )
        await save(conn, outbox, inquiry_id, change)
        return await consent_log(conn, inquiry_id)


async def patient_consents(pool: Pool, inquiry_id: uuid.UUID, token: str) -> list[ConsentEntry]:
    async with pool.acquire() as conn:
        if await find_by_token(conn, inquiry_id, hash_token(token)) is None:
            raise NotFound(f"no inquiry {inquiry_id} for this access token")
        return await consent_log(conn, inquiry_id)


async def consents_of(pool: Pool, inquiry_id: uuid.UUID) -> list[ConsentEntry]:
    """The log as coordinators read it."""
    async with pool.acquire() as conn:
        if await cases.find_case(conn, inquiry_id) is None:
            raise NotFound(f"no inquiry {inquiry_id}")
        return await consent_log(conn, inquiry_id)


async def consent_states(conn: Connection, inquiry_id: uuid.UUID) -> list[PurposeState]:
    """Per purpose of the current notice (and any other the log names), the patient's latest
    word: a purpose never answered is not given."""
    latest = {entry.purpose: entry for entry in await store.consents(conn, inquiry_id)}
    purposes: list[str] = list(PUBLISHED[CURRENT_VERSION].purposes)
    purposes += [p for p in latest if p not in purposes]
    return [
        PurposeState(purpose=cast(ConsentPurpose, purpose), given=False)
        if (entry := latest.get(purpose)) is None
        else PurposeState(
            purpose=cast(ConsentPurpose, purpose),
            given=entry.granted,
            notice_version=entry.version,
            at=entry.at,
        )
        for purpose in purposes
    ]


async def receipt(
    pool: Pool, inquiry_id: uuid.UUID, token: str, *, now: datetime
) -> ConsentReceipt:
    """The patient's consent receipt: each purpose, given or not, the notice version and when,
    and how to withdraw."""
    async with pool.acquire() as conn:
        if await find_by_token(conn, inquiry_id, hash_token(token)) is None:
            raise NotFound(f"no inquiry {inquiry_id} for this access token")
        states = await consent_states(conn, inquiry_id)
    return ConsentReceipt(
        inquiry_id=inquiry_id,
        purposes=states,
        current_notice_version=CURRENT_VERSION,
        notice_url=f"/v1/consent-notices?version={CURRENT_VERSION}",
        how_to_withdraw=(
            f"POST /v1/inquiries/{inquiry_id}/consents with your access token and "
            '{"purpose": "<purpose>", "granted": false, "version": "<notice version>"}: '
            "processing for that purpose stops at once; withdrawing health_data_processing "
            "stops your open inquiry."
        ),
        issued_at=now,
    )


async def consent_log(conn: Connection, inquiry_id: uuid.UUID) -> list[ConsentEntry]:
    return [
        msgspec.convert(msgspec.structs.asdict(c), ConsentEntry)
        for c in await store.consents(conn, inquiry_id)
    ]
