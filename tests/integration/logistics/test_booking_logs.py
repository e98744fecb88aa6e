"""What the logistics service logs, at its most verbose, holds no traveller data: the lines it
writes while bookings are made, offered, declined with notes, refused and erased."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from contracts.inquiries import PersonalDataErased
from contracts.partners import OfferDeclined
from contracts.registry import INQUIRY_ERASED
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import Start, Tap, dead_letters, publish, reply
from tests.integration.logistics.test_dispatch import confirm, confirmed
from tests.integration.logistics.test_partner_replies import publish_raw
from tests.logistics_samples import partner, shipment, transfer
from tests.support import eventually

PERSONAL = ("Olena", "Kovalenko", "380501234567", "Khreshchatyk", "RX-2027-0042")


async def test_the_service_logs_no_traveller_data_from_booking_to_erasure(
    start: Start,
    coordinator: dict[str, str],
    bus: Bus,
    offers: Tap,
    db: asyncpg.Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inquiry = str(uuid.uuid4())
    async with start(LOG_LEVEL="debug", LOG_FORMAT="json") as client:
        await client.put(
            "/v1/partners/kyiv-courier",
            json=partner("kyiv-courier", "shipment"),
            headers=coordinator,
        )
        booked = await client.post(
            "/v1/bookings", json={"kind": "shipment", "details": shipment()}, headers=coordinator
        )
        assert booked.status_code == 201
        refused = await client.post(
            "/v1/bookings",
            json={
                "kind": "transfer",
                "details": transfer(
                    patient={"full_name": "Olena Kovalenko", "phone": "380501234567"}
                ),
            },
            headers=coordinator,
        )
        assert refused.status_code == 400
        await confirm(bus, confirmed(inquiry, ("shipment", shipment())))
        seen = await offers.until(lambda s: len(s) == 2)
        offer = next(o for _, o in seen if o.booking_id != booked.json()["booking"]["id"])
        await reply(
            bus,
            "kyiv-courier",
            OfferDeclined(offer_id=offer.offer_id, reason="other", note="Olena Kovalenko moved"),
        )
        await publish_raw(bus, "kyiv-courier", b'{"type": "offer_accepted", "note": "Kovalenko"}')
        await publish(
            bus,
            INQUIRY_ERASED.subject(),
            PersonalDataErased(inquiry_id=inquiry, erased_at=datetime.now(UTC)),
            source="/carebridge/inquiries",
        )

        async def settled() -> bool:
            erased = await db.fetchval("SELECT count(*) FROM bookings WHERE erased_at IS NOT NULL")
            unsent = await db.fetchval("SELECT count(*) FROM outbox")
            return bool(erased == 1 and unsent == 0 and len(await dead_letters(db)) == 1)

        await eventually(settled, timeout=15)

    lines = capsys.readouterr()
    logged = (lines.out + lines.err).splitlines()
    assert any('"message dead-lettered"' in line for line in logged), "the capture saw the logs"
    for line in logged:
        for secret in PERSONAL:
            assert secret not in line, f"{secret!r} logged: {line}"
