"""Inquiry use cases on a real database: each loads, lets the domain decide and saves the change
with its events in one transaction; a refused command leaves every table as it was."""

from __future__ import annotations

import uuid
from datetime import timedelta

import msgspec
import pytest

from services.inquiries.domain.commands import (
    Confirmation,
    ConsentForm,
    ServicesPlan,
    TransferPlan,
    Transition,
)
from services.inquiries.domain.consent import CURRENT_VERSION
from services.inquiries.domain.intake import SubmissionConsent
from services.inquiries.usecases import casework, intake, offers
from services.inquiries.usecases.cases import Stamp
from services.inquiries.usecases.privacy import consent
from services.runtime.core.db import Pool
from services.runtime.core.errors import Invalid, PreconditionFailed
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing
from tests import inquiry_commands
from tests.usecases.inquiries.submissions import EVERY_PURPOSE, NOW, submission, submit

# Every table a command of this service may write to, counted before and after a refusal.
TABLES = ("inquiries", "timeline", "consents", "offers", "case_records", "outbox")


def confirmation() -> Confirmation:
    return inquiry_commands.confirmation(NOW, ServicesPlan(transfer=TransferPlan()))


async def offer_sent(
    pool: Pool,
    outbox: Outbox,
    keys: KeyRing,
    valid_for: timedelta,
    consent: SubmissionConsent = EVERY_PURPOSE,
) -> uuid.UUID:
    inquiry_id = await submit(pool, outbox, keys, consent)
    review = Transition(to="in_review")
    await casework.transition(pool, outbox, inquiry_id, review, stamp(version=1))
    await offers.send_offer(
        pool, outbox, keys, inquiry_id, inquiry_commands.offer(NOW + valid_for), stamp(2)
    )
    return inquiry_id


def stamp(version: int) -> Stamp:
    return Stamp(by="Anna Coordinator", expected_version=version, now=NOW)


async def counts(pool: Pool) -> dict[str, int]:
    return {table: await pool.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}


async def case_status(pool: Pool, inquiry_id: uuid.UUID) -> tuple[str, int]:
    row = await pool.fetchrow("SELECT status, version FROM inquiries WHERE id = $1", inquiry_id)
    assert row is not None
    return row["status"], row["version"]


async def patient_token(pool: Pool, inquiry_id: uuid.UUID) -> str:
    """A token the patient holds for the case (the submission's answer is not kept here)."""
    token = f"cbp_{uuid.uuid4().hex}"
    await pool.execute(
        "UPDATE inquiries SET access_token_hash = $2 WHERE id = $1",
        inquiry_id,
        intake.hash_token(token),
    )
    return token


async def subjects(pool: Pool) -> list[str]:
    return [r["subject"] for r in await pool.fetch("SELECT subject FROM outbox ORDER BY seq")]


async def test_a_submission_opens_a_case_with_its_consent_and_timeline_and_announces_it(
    pool: Pool, outbox: Outbox, keys: KeyRing
) -> None:
    inquiry_id = await submit(pool, outbox, keys)

    assert await case_status(pool, inquiry_id) == ("submitted", 1)
    assert await pool.fetchval("SELECT kind FROM timeline WHERE inquiry_id = $1", inquiry_id) == (
        "submitted"
    )
    given = await pool.fetch(
        "SELECT purpose, granted, version FROM consents WHERE inquiry_id = $1 ORDER BY id",
        inquiry_id,
    )
    assert [tuple(r.values()) for r in given] == [
        (purpose, True, CURRENT_VERSION)
        for purpose in (
            "health_data_processing",
            "review_by_staff",
            "forwarding_to_clinics",
            "partner_sharing",
        )
    ]
    assert await subjects(pool) == ["inquiries.inquiry.submitted.v1"]


async def test_a_submission_naming_an_unknown_condition_is_refused_and_stores_nothing(
    pool: Pool, outbox: Outbox, keys: KeyRing
) -> None:
    before = await counts(pool)

    with pytest.raises(Invalid) as refused:
        await intake.submit(
            pool,
            outbox,
            keys,
            submission(condition="no-such-condition"),
            body=b"{}",
            consumer_id=uuid.uuid4(),
            idempotency_key=None,
            now=NOW,
        )

    assert [p.field for p in refused.value.problems] == ["condition_slug"]
    assert await counts(pool) == before


async def test_confirming_moves_the_case_records_the_plan_and_requests_the_bookings(
    pool: Pool, outbox: Outbox, keys: KeyRing
) -> None:
    inquiry_id = await offer_sent(pool, outbox, keys, valid_for=timedelta(days=7))
    await offers.accept_offer(pool, outbox, inquiry_id, 1, stamp(3))

    await casework.confirm(pool, outbox, keys, inquiry_id, confirmation(), stamp(4))

    assert await case_status(pool, inquiry_id) == ("confirmed", 5)
    kinds = await pool.fetch(
        "SELECT kind FROM timeline WHERE inquiry_id = $1 ORDER BY id DESC LIMIT 2", inquiry_id
    )
    assert [r["kind"] for r in kinds] == ["confirmed", "status_changed"]
    assert (await subjects(pool))[-2:] == [
        "inquiries.inquiry.status_changed.v1",
        "inquiries.inquiry.confirmed.v1",
    ]
    disclosed = await pool.fetchrow("SELECT kind, recipient FROM disclosure_log")
    assert disclosed is not None
    assert (disclosed["kind"], disclosed["recipient"]) == ("booking_request", "logistics")
    view = await casework.case_view(pool, keys, inquiry_id)
    assert view.confirmation == confirmation()


async def test_without_partner_sharing_the_bookings_wait_until_the_patient_grants_it(
    pool: Pool, outbox: Outbox, keys: KeyRing
) -> None:
    no_partners = msgspec.structs.replace(EVERY_PURPOSE, partner_sharing=False)
    inquiry_id = await offer_sent(pool, outbox, keys, timedelta(days=7), consent=no_partners)
    await offers.accept_offer(pool, outbox, inquiry_id, 1, stamp(3))

    await casework.confirm(pool, outbox, keys, inquiry_id, confirmation(), stamp(4))

    assert await case_status(pool, inquiry_id) == ("confirmed", 5)
    assert await pool.fetchval("SELECT count(*) FROM disclosure_log") == 0
    view = await casework.case_view(pool, keys, inquiry_id)
    (blocked,) = view.blocked
    assert blocked.purpose == "partner_sharing"
    assert "has not given consent to partner_sharing" in blocked.reason
    assert {s.purpose: s.given for s in view.consent}["partner_sharing"] is False
    assert await pool.fetchval("SELECT count(*) FROM held_requests WHERE body IS NOT NULL") == 1

    await consent.record_consent(
        pool,
        outbox,
        keys,
        inquiry_id,
        await patient_token(pool, inquiry_id),
        ConsentForm(purpose="partner_sharing", granted=True, version=CURRENT_VERSION),
        now=NOW + timedelta(hours=1),
    )

    assert (await subjects(pool))[-1] == "inquiries.inquiry.bookings_released.v1"
    disclosed = await pool.fetchrow("SELECT legal_basis, consent_version FROM disclosure_log")
    assert disclosed is not None
    assert disclosed["consent_version"] == CURRENT_VERSION
    assert "to partner_sharing, given 2026-12-01T10:00:00+00:00" in disclosed["legal_basis"]
    assert (await casework.case_view(pool, keys, inquiry_id)).blocked == []


async def test_a_confirmation_based_on_an_older_version_changes_nothing(
    pool: Pool, outbox: Outbox, keys: KeyRing
) -> None:
    inquiry_id = await offer_sent(pool, outbox, keys, valid_for=timedelta(days=7))
    await offers.accept_offer(pool, outbox, inquiry_id, 1, stamp(3))
    before = await counts(pool)

    with pytest.raises(PreconditionFailed):
        await casework.confirm(pool, outbox, keys, inquiry_id, confirmation(), stamp(3))

    assert await counts(pool) == before
    assert await case_status(pool, inquiry_id) == ("accepted", 4)


async def test_a_confirmation_that_breaks_a_rule_changes_nothing(
    pool: Pool, outbox: Outbox, keys: KeyRing
) -> None:
    inquiry_id = await offer_sent(pool, outbox, keys, valid_for=timedelta(days=7))
    await offers.accept_offer(pool, outbox, inquiry_id, 1, stamp(3))
    unpaid = msgspec.structs.replace(
        confirmation(),
        payment=msgspec.structs.replace(confirmation().payment, amount="0.00"),
    )
    before = await counts(pool)

    with pytest.raises(Invalid):
        await casework.confirm(pool, outbox, keys, inquiry_id, unpaid, stamp(4))

    assert await counts(pool) == before


async def test_an_offer_expires_with_its_case_once_now_passes_its_validity(
    pool: Pool, outbox: Outbox, keys: KeyRing
) -> None:
    inquiry_id = await offer_sent(pool, outbox, keys, valid_for=timedelta(hours=1))

    assert await offers.expire_due(pool, outbox, now=NOW + timedelta(minutes=59)) == 0
    assert await case_status(pool, inquiry_id) == ("offer_sent", 3)

    assert await offers.expire_due(pool, outbox, now=NOW + timedelta(hours=1)) == 1
    assert await case_status(pool, inquiry_id) == ("expired", 4)
    assert await pool.fetchval("SELECT state FROM offers WHERE inquiry_id = $1", inquiry_id) == (
        "expired"
    )
