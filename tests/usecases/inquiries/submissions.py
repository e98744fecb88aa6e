"""A patient's submission as the use-case tests make it: every purpose consented to, on the
condition the test database knows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from services.inquiries.domain.consent import CURRENT_VERSION
from services.inquiries.domain.intake import Patient, SubmissionConsent, SubmitInquiry
from services.inquiries.usecases import intake
from services.runtime.core.db import Pool
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing
from tests.usecases.inquiries.conftest import CONDITION

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


# What the patient ticked: every purpose of the current notice.
EVERY_PURPOSE = SubmissionConsent(
    version=CURRENT_VERSION,
    health_data_processing=True,
    review_by_staff=True,
    forwarding_to_clinics=True,
    partner_sharing=True,
)


def submission(
    condition: str = CONDITION, consent: SubmissionConsent = EVERY_PURPOSE
) -> SubmitInquiry:
    return SubmitInquiry(
        patient=Patient(
            full_name="Olena Kovalenko",
            date_of_birth=date(1970, 5, 1),
            sex="female",
            country="UA",
            language="uk",
            email="olena@example.org",
        ),
        condition_slug=condition,
        description="Mitral valve regurgitation",
        consent=consent,
        source="heart-clinic-finder",
    )


async def submit(
    pool: Pool, outbox: Outbox, keys: KeyRing, consent: SubmissionConsent = EVERY_PURPOSE
) -> uuid.UUID:
    answer = await intake.submit(
        pool,
        outbox,
        keys,
        submission(consent=consent),
        body=b"{}",
        consumer_id=uuid.uuid4(),
        idempotency_key=None,
        now=NOW,
    )
    return answer.id
