"""Erasure keeps a receipt and, for a case with business to account for, a pseudonymous billing
stub: the case id, dates, services, amounts and bookings, and nothing that names the patient."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import msgspec
import pytest

from services.runtime.access import staff
from tests.integration.inquiries.casefile import (
    CONFIRMATION,
    Client,
    move,
    step,
    submit,
    to_accepted,
)

PERSONAL = (
    "Olena",
    "Kovalenko",
    "olena@example.org",
    "380501234567",
    "regurgitation",
    "Taras",
    "380671112233",
    "SEPA-2026-11-0042",
    "mitral valve repair",
    "Weber",
)


@pytest.fixture
async def admin(casedb: asyncpg.Connection) -> dict[str, str]:
    _, token = await staff.create_token(casedb, person="Ada Admin", roles=("admin",))
    return {"Authorization": f"Bearer {token}"}


async def confirmed_then_cancelled(
    client: Client, coordinator: dict[str, str], casedb: asyncpg.Connection
) -> str:
    inquiry_id = await to_accepted(client, coordinator, await submit(client))
    await step(client, coordinator, inquiry_id, "confirmation", CONFIRMATION)
    # As the booking timeline consumer records logistics' events.
    await casedb.execute(
        """INSERT INTO booking_progress (booking_id, inquiry_id, kind, status, version,
                                         partner_name, progress, changed_at)
           VALUES ($1, $2, 'transfer', 'cancelled', 4, 'Rhein Shuttle GmbH', NULL, now())""",
        "6f1c1a52-3d1e-4e0f-9a57-0c1f7d3c2b10",
        uuid.UUID(inquiry_id),
    )
    await step(
        client, coordinator, inquiry_id, "transitions", {"to": "cancelled", "reason": "no visa"}
    )
    return inquiry_id


async def test_erasing_a_case_with_business_keeps_a_stub_without_personal_data(
    client: Client,
    coordinator: dict[str, str],
    admin: dict[str, str],
    casedb: asyncpg.Connection,
) -> None:
    inquiry_id = await confirmed_then_cancelled(client, coordinator, casedb)

    response = await client.post(f"/v1/inquiries/{inquiry_id}/erasure", headers=admin)

    assert response.status_code == 200, response.text
    until = date(datetime.now(UTC).year + 10, 12, 31)
    assert response.json()["billing_stub_until"] == until.isoformat()
    assert response.json()["reason"] == "request"
    row = await casedb.fetchrow(
        "SELECT stub::text AS stub, retain_until FROM billing_stubs WHERE inquiry_id = $1",
        uuid.UUID(inquiry_id),
    )
    assert row is not None
    assert row["retain_until"] == until
    stub: dict[str, Any] = msgspec.json.decode(row["stub"])
    assert stub["inquiry_id"] == inquiry_id
    assert stub["closed_status"] == "cancelled"
    assert stub["services"] == ["transfer", "interpreter", "medicine_shipment", "support"]
    assert stub["accepted_offer"] == {
        "version": 1,
        "currency": "EUR",
        "programmes": [{"total": "21500.00", "advance": "5000.00"}],
    }
    assert stub["payment"] == {"kind": "advance", "amount": "5000.00", "on": "2026-11-20"}
    assert stub["bookings"] == [
        {
            "booking_id": "6f1c1a52-3d1e-4e0f-9a57-0c1f7d3c2b10",
            "kind": "transfer",
            "status": "cancelled",
            "partner_name": "Rhein Shuttle GmbH",
        }
    ]
    for personal in PERSONAL:
        assert personal not in row["stub"]


async def test_the_receipt_stays_readable_after_the_erasure(
    client: Client,
    coordinator: dict[str, str],
    admin: dict[str, str],
    casedb: asyncpg.Connection,
) -> None:
    inquiry_id = await confirmed_then_cancelled(client, coordinator, casedb)
    erased = (await client.post(f"/v1/inquiries/{inquiry_id}/erasure", headers=admin)).json()

    receipt = await client.get(f"/v1/inquiries/{inquiry_id}/erasure", headers=admin)

    assert receipt.status_code == 200, receipt.text
    assert receipt.json() == erased
    for personal in PERSONAL:
        assert personal not in receipt.text


async def test_a_case_with_nothing_to_account_for_leaves_no_stub(
    client: Client,
    coordinator: dict[str, str],
    admin: dict[str, str],
    casedb: asyncpg.Connection,
) -> None:
    inquiry_id = (await submit(client))["id"]
    await move(client, coordinator, inquiry_id, "in_review")
    await move(client, coordinator, inquiry_id, "declined")

    response = await client.post(f"/v1/inquiries/{inquiry_id}/erasure", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["billing_stub_until"] is None
    assert await casedb.fetchval("SELECT count(*) FROM billing_stubs") == 0


async def test_there_is_no_receipt_for_a_case_not_erased_and_only_admins_read_one(
    client: Client, coordinator: dict[str, str], admin: dict[str, str]
) -> None:
    inquiry_id = (await submit(client))["id"]
    url = f"/v1/inquiries/{inquiry_id}/erasure"

    not_erased = await client.get(url, headers=admin)
    unknown = await client.get(f"/v1/inquiries/{uuid.uuid4()}/erasure", headers=admin)
    as_coordinator = await client.get(url, headers=coordinator)

    assert [not_erased.status_code, unknown.status_code, as_coordinator.status_code] == [
        404,
        404,
        403,
    ]
    assert "was not erased" in not_erased.json()["detail"]
