"""Inquiry commands, each one transaction: decide, save, announce through the outbox."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

import msgspec

from contracts.inquiries import ConsentWithdrawn, InquirySubmitted
from contracts.registry import INQUIRY_CONSENT_WITHDRAWN, INQUIRY_SUBMITTED
from services.inquiries import catalogue, store
from services.inquiries.casework import consent_log
from services.inquiries.domain import TRANSITIONS, submission_problems
from services.inquiries.forms import ConsentEntry, ConsentForm, PatientCase
from services.inquiries.lifecycle import (
    PATIENT,
    PersonalData,
    aad,
    lock_for_patient,
    move,
    status_of,
)
from services.inquiries.offers import offer_views
from services.inquiries.requests import SubmitInquiry, Submitted
from services.runtime.core.db import Pool, transaction
from services.runtime.core.errors import Invalid, NotFound
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

ACCESS_TOKEN_PREFIX = "cbp_"  # noqa: S105 - marks a patient token when it leaks, not a secret


class _LostRace(Exception):
    """Another request with the same Idempotency-Key committed first."""


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def submit(
    pool: Pool,
    outbox: Outbox,
    keys: KeyRing,
    request: SubmitInquiry,
    *,
    body: bytes,
    idempotency_key: str | None,
    now: datetime,
) -> Submitted:
    """Create an inquiry; with an Idempotency-Key a retry gets the first answer back, even when
    retries race (the key is unique; the loser rolls back and reads the winner's answer)."""
    request_hash = hashlib.sha256(body).digest()
    for _ in range(2):
        try:
            return await _submit_once(
                pool, outbox, keys, request, request_hash, idempotency_key, now
            )
        except _LostRace:
            continue
    raise RuntimeError("idempotent submission kept racing")  # pragma: no cover - two rounds suffice


async def _submit_once(
    pool: Pool,
    outbox: Outbox,
    keys: KeyRing,
    request: SubmitInquiry,
    request_hash: bytes,
    idempotency_key: str | None,
    now: datetime,
) -> Submitted:
    async with transaction(pool) as conn:
        if idempotency_key is not None:
            earlier = await store.find_submission(conn, request.source, idempotency_key)
            if earlier is not None:
                return _replay(keys, earlier, request_hash, request.source, idempotency_key)
        dates = request.preferred_dates
        problems = submission_problems(
            consent_given=request.consent.health_data_processing,
            date_of_birth=request.patient.date_of_birth,
            preferred=(dates.from_, dates.to) if dates else None,
            services=request.services,
            condition_known=await catalogue.is_known(conn, request.condition_slug),
            today=now.date(),
        )
        if problems:
            raise Invalid(problems)
        inquiry_id = uuid.uuid4()
        token = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
        personal = PersonalData(
            patient=msgspec.to_builtins(request.patient),
            description=request.description,
            diagnoses=request.diagnoses,
            preferred_dates=msgspec.to_builtins(dates) if dates else None,
        )
        sealed = keys.encrypt_json(personal, aad=aad(inquiry_id, "personal"))
        await store.insert_inquiry(
            conn,
            id=inquiry_id,
            condition_slug=request.condition_slug,
            preferred_country=request.preferred_country,
            services=list(request.services),
            source=request.source,
            personal=to_column(sealed),
            key_id=sealed.key_id,
            access_token_hash=hash_token(token),
            now=now,
        )
        await store.insert_consent(
            conn,
            inquiry_id=inquiry_id,
            purpose="health_data_processing",
            granted=True,
            version=request.consent.version,
            given_by="patient",
            now=now,
        )
        await store.insert_timeline(conn, inquiry_id, "submitted", {}, now)
        await outbox.emit(
            conn,
            INQUIRY_SUBMITTED.subject(),
            InquirySubmitted(
                inquiry_id=str(inquiry_id),
                condition_slug=request.condition_slug,
                preferred_country=request.preferred_country,
                services=request.services,
                source=request.source,
                submitted_at=now,
            ),
        )
        answer = Submitted(
            id=inquiry_id,
            status="submitted",
            status_url=f"/v1/inquiries/{inquiry_id}",
            access_token=token,
        )
        if idempotency_key is not None:
            stored = keys.encrypt_json(answer, aad=_answer_aad(request.source, idempotency_key))
            recorded = await store.record_submission(
                conn,
                source=request.source,
                key=idempotency_key,
                request_hash=request_hash,
                inquiry_id=inquiry_id,
                response=to_column(stored),
                now=now,
            )
            if not recorded:
                raise _LostRace
        return answer


def _replay(
    keys: KeyRing, earlier: store.StoredSubmission, request_hash: bytes, source: str, key: str
) -> Submitted:
    if earlier.request_hash != request_hash:
        raise Invalid.single(
            "Idempotency-Key", "was used before for a different submission; use a new key"
        )
    return keys.decrypt_json(
        from_column(earlier.response), aad=_answer_aad(source, key), type=Submitted
    )


def _answer_aad(source: str, key: str) -> bytes:
    return f"idempotency:{source}:{key}".encode()


async def patient_view(pool: Pool, keys: KeyRing, inquiry_id: uuid.UUID, token: str) -> PatientCase:
    async with pool.acquire() as conn:
        row = await store.find_by_token(conn, inquiry_id, hash_token(token))
        if row is None:
            # The same answer whether the inquiry exists or not: nothing to enumerate.
            raise NotFound(f"no inquiry {inquiry_id} for this access token")
        entries = await store.timeline(conn, inquiry_id)
        offers = await offer_views(conn, keys, inquiry_id)
    return PatientCase(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]  # the table only holds lifecycle states
        condition_slug=row.condition_slug,
        services=row.services,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
        timeline=entries,
        offers=offers,
    )


async def record_consent(
    pool: Pool,
    outbox: Outbox,
    inquiry_id: uuid.UUID,
    token: str,
    form: ConsentForm,
    *,
    now: datetime,
) -> list[ConsentEntry]:
    """The patient grants or withdraws one purpose. Withdrawing stops that processing at once:
    without consent to process health data an open case is cancelled and moves no further;
    without partner sharing no booking is requested."""
    async with transaction(pool) as conn:
        row = await lock_for_patient(conn, inquiry_id, hash_token(token))
        await store.insert_consent(
            conn,
            inquiry_id=inquiry_id,
            purpose=form.purpose,
            granted=form.granted,
            version=form.version,
            given_by=PATIENT,
            now=now,
        )
        kind = "consent_granted" if form.granted else "consent_withdrawn"
        await store.insert_timeline(
            conn, inquiry_id, kind, {"purpose": form.purpose, "version": form.version}, now
        )
        if not form.granted:
            await outbox.emit(
                conn,
                INQUIRY_CONSENT_WITHDRAWN.subject(),
                ConsentWithdrawn(
                    inquiry_id=str(inquiry_id), purpose=form.purpose, withdrawn_at=now
                ),
            )
            if (
                form.purpose == "health_data_processing"
                and "cancelled" in TRANSITIONS[status_of(row)]
            ):
                await move(
                    conn,
                    outbox,
                    row,
                    "cancelled",
                    by=PATIENT,
                    now=now,
                    reason="the patient withdrew consent to process their health data",
                )
        return await consent_log(conn, inquiry_id)


async def patient_consents(pool: Pool, inquiry_id: uuid.UUID, token: str) -> list[ConsentEntry]:
    async with pool.acquire() as conn:
        if await store.find_by_token(conn, inquiry_id, hash_token(token)) is None:
            raise NotFound(f"no inquiry {inquiry_id} for this access token")
        return await consent_log(conn, inquiry_id)
