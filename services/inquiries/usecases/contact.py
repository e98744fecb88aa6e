"""Answer notifications' contact request: the patient's address and language, opened for the
moment of the answer and never kept by the asker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from contracts.notifications import ContactReply, ContactRequest
from services.inquiries.domain.contact import contact_answer
from services.inquiries.store import cases, privacy
from services.inquiries.usecases.cases import personal_data
from services.inquiries.usecases.recovery import reissued_token
from services.runtime.core.db import Pool
from services.runtime.privacy.crypto import KeyRing


async def contact_for(pool: Pool, keys: KeyRing, request: ContactRequest) -> ContactReply:
    inquiry_id = uuid.UUID(request.inquiry_id)
    async with pool.acquire() as conn:
        row = await cases.find_case(conn, inquiry_id)
        consents = await privacy.current_consents(conn, inquiry_id) if row else {}
        token = (
            await reissued_token(
                conn, keys, inquiry_id, request.token_reissue_id, datetime.now(UTC)
            )
            if row is not None and request.token_reissue_id is not None
            else None
        )
    return contact_answer(
        request.inquiry_id,
        None if row is None else personal_data(keys, row),
        exists=row is not None,
        consents=consents,
        access_token=token,
    )
