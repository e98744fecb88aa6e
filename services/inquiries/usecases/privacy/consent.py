"""Consent per purpose: the patient grants or withdraws one at a time, and reads the log."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from services.inquiries.domain import privacy
from services.inquiries.domain.commands import ConsentForm
from services.inquiries.domain.model import PATIENT
from services.inquiries.domain.views import ConsentEntry
from services.inquiries.store import cases
from services.inquiries.store import privacy as store
from services.inquiries.store.intake import find_by_token
from services.inquiries.usecases.cases import case_of, lock_for_patient, save
from services.inquiries.usecases.intake import hash_token
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import NotFound
from services.runtime.messaging.outbox import Outbox


async def record_consent(
    pool: Pool,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    token: str,
    form: ConsentForm,
    *,
    now: datetime,
) -> list[ConsentEntry]:
    """The patient grants or withdraws one purpose; withdrawing stops that processing at once
    (see domain.privacy.record_consent). Answers the whole log."""
    async with transaction(pool) as conn:
        row = await lock_for_patient(conn, inquiry_id, hash_token(token))
        change = privacy.record_consent(case_of(row), form, now=now)
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


async def consent_log(conn: Connection, inquiry_id: uuid.UUID) -> list[ConsentEntry]:
    return [
        msgspec.convert(msgspec.structs.asdict(c), ConsentEntry)
        for c in await store.consents(conn, inquiry_id)
    ]
