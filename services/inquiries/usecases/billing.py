"""The billing stub an erasure keeps (see domain.billing for why and what): read what the books
need from the sealed records, let the domain make the stub, keep it."""

from __future__ import annotations

from datetime import datetime

import msgspec

from services.inquiries.domain import billing
from services.inquiries.store import billing as billing_store
from services.inquiries.store.cases import CaseRow
from services.inquiries.usecases.casework import confirmation_of
from services.inquiries.usecases.offers import offer_views
from services.runtime.core.db import Connection
from services.runtime.privacy.crypto import KeyRing


async def keep_stub(
    conn: Connection,
    keys: KeyRing,
    case: CaseRow,
    *,
    years: int,
    now: datetime,
) -> billing.BillingStub | None:
    """Inside the erasure's transaction, before the wipes. None when there is nothing to
    account for."""
    stub = billing.stub(
        inquiry_id=case.id,
        closed_status=case.status,
        submitted_at=case.submitted_at,
        closed_at=case.updated_at,
        services=case.services,
        offers=await offer_views(conn, keys, case.id),
        confirmation=await confirmation_of(conn, keys, case.id),
        bookings=await billing_store.booking_lines(conn, case.id),
        years=years,
        now=now,
    )
    if stub is not None:
        await billing_store.insert_stub(conn, case.id, msgspec.json.encode(stub), stub.retain_until)
    return stub
