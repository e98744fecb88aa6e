"""Intake: a site submits an inquiry (idempotently), the patient follows it with their token,
and the conditions an inquiry may name are learned from content's events."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from contracts.content import ContentEvent, ContentPublished, ContentUnpublished
from contracts.support import TokenChecked, TokenCheckRequest
from services.inquiries.domain import intake
from services.inquiries.domain.intake import SubmitInquiry, Submitted
from services.inquiries.domain.model import PATIENT, aad
from services.inquiries.domain.views import PatientCase
from services.inquiries.store import cases, traces
from services.inquiries.store import intake as store
from services.inquiries.usecases.bookings import booking_views
from services.inquiries.usecases.cases import announce_under, record
from services.inquiries.usecases.offers import offer_views
from services.runtime.core import tracing
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import Invalid, NotFound
from services.runtime.messaging.outbox import Outbox, current_correlation_id
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

ACCESS_TOKEN_PREFIX = "cbp_"  # noqa: S105 - marks a patient token when it leaks, not a secret


class _LostRace(Exception):
    """Another request with the same Idempotency-Key committed first."""


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_access_token() -> str:
    return ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)


async def submit(
    pool: Pool,
    outbox: Outbox,
    keys: KeyRing,
    request: SubmitInquiry,
    *,
    body: bytes,
    consumer_id: uuid.UUID,
    idempotency_key: str | None,
    now: datetime,
) -> Submitted:
    """Create an inquiry; with an Idempotency-Key a retry gets the first answer back, even when
    retries race (the key is unique; the loser rolls back and reads the winner's answer). Keys
    are the submitting consumer's own (`consumer_id`, its API key's): the answer holds the
    patient's access token, which no other consumer may replay out of it."""
    request_hash = hashlib.sha256(body).digest()
    for _ in range(2):
        try:
            return await _submit_once(
                pool, outbox, keys, request, request_hash, (consumer_id, idempotency_key), now
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
    idempotency: tuple[uuid.UUID, str | None],
    now: datetime,
) -> Submitted:
    consumer_id, idempotency_key = idempotency
    async with transaction(pool) as conn:
        if idempotency_key is not None:
            earlier = await store.find_submission(conn, consumer_id, idempotency_key)
            if earlier is not None:
                return _replay(keys, earlier, request_hash, consumer_id, idempotency_key)
        inquiry_id = uuid.uuid4()
        personal, change = intake.submit(
            request,
            inquiry_id=inquiry_id,
            condition_known=await store.is_known_condition(conn, request.condition_slug),
            now=now,
        )
        token = new_access_token()
        sealed = keys.encrypt_json(personal, aad=aad(inquiry_id, "personal"))
        # The case's trace and correlation: its later events, whoever causes them, join them.
        trace = traces.CaseTrace(
            correlation_id=current_correlation_id() or str(inquiry_id), trace=tracing.current()
        )
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
            consents=list(request.consent.answers().items()),
            consent_version=request.consent.version,
            given_by=PATIENT,
            trace=trace,
            now=now,
        )
        await record(conn, inquiry_id, change)
        await announce_under(conn, outbox, inquiry_id, change, trace)
        answer = Submitted(
            id=inquiry_id,
            status="submitted",
            status_url=f"/v1/inquiries/{inquiry_id}",
            access_token=token,
        )
        if idempotency_key is not None:
            stored = keys.encrypt_json(answer, aad=_answer_aad(consumer_id, idempotency_key))
            recorded = await store.record_submission(
                conn,
                consumer_id=consumer_id,
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
    keys: KeyRing,
    earlier: store.StoredSubmission,
    request_hash: bytes,
    consumer_id: uuid.UUID,
    key: str,
) -> Submitted:
    if earlier.request_hash != request_hash:
        raise Invalid.single(
            "Idempotency-Key", "was used before for a different submission; use a new key"
        )
    return keys.decrypt_json(
        from_column(earlier.response), aad=_answer_aad(consumer_id, key), type=Submitted
    )


def _answer_aad(consumer_id: uuid.UUID, key: str) -> bytes:
    return f"idempotency:{consumer_id}:{key}".encode()


async def patient_view(pool: Pool, keys: KeyRing, inquiry_id: uuid.UUID, token: str) -> PatientCase:
    async with pool.acquire() as conn:
        row = await store.find_by_token(conn, inquiry_id, hash_token(token))
        if row is None:
            # The same answer whether the inquiry exists or not: nothing to enumerate.
            raise NotFound(f"no inquiry {inquiry_id} for this access token")
        entries = await cases.timeline(conn, inquiry_id)
        offers = await offer_views(conn, keys, inquiry_id)
        bookings = await booking_views(conn, keys, inquiry_id)
    return PatientCase(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]  # the table only holds lifecycle states
        condition_slug=row.condition_slug,
        services=row.services,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
        timeline=entries,
        offers=offers,
        bookings=bookings,
    )


async def check_patient_access(pool: Pool, inquiry_id: uuid.UUID, token: str) -> None:
    """The token must open the inquiry. The answer is the same whether the inquiry does not
    exist or the token is not its own: nothing to enumerate."""
    async with pool.acquire() as conn:
        found = await store.find_by_token(conn, inquiry_id, hash_token(token))
    if found is None:
        raise NotFound(f"no inquiry {inquiry_id} for this access token")


async def token_check(pool: Pool, request: TokenCheckRequest) -> TokenChecked:
    """Support's check of a patient's token, by its digest (what the table keeps)."""
    async with pool.acquire() as conn:
        found = await store.find_by_token(
            conn, uuid.UUID(request.inquiry_id), bytes.fromhex(request.token_sha256)
        )
    return TokenChecked(inquiry_id=request.inquiry_id, valid=found is not None)


async def learn_condition(conn: Connection, event: ContentEvent) -> None:
    """The conditions an inquiry may name, learned from content events: the inquiries service
    never calls the content service, so a content outage cannot stop patients from submitting."""
    if event.kind != "condition":
        return
    match event:
        case ContentPublished():
            await store.learn_condition(
                conn, event.slug, event.revision, list(event.locales), list(event.previous_slugs)
            )
        case ContentUnpublished():
            await store.forget_condition(conn, event.slug, event.revision)
