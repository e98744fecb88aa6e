"""A partner asks the support desk for help on its replies subject: logistics checks the partner
was offered the booking and forwards the request, and support opens an urgent case linked to the
booking and its inquiry. A request about a booking the partner was never offered is a dead
letter in logistics and opens nothing."""

from __future__ import annotations

import uuid

import asyncpg

from contracts.partners import SupportRequest
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import Client, Register, Tap, dead_letters, reply
from tests.integration.logistics.test_dispatch import confirm, confirmed, offer_to
from tests.integration.support.conftest import (  # noqa: F401 - fixtures, requested by name
    sdb,
    start_support,
    support,
)
from tests.logistics_samples import transfer
from tests.support import eventually


async def test_a_partners_support_request_opens_a_case_linked_to_its_booking(
    client: Client,
    support: Client,  # noqa: F811 - the fixture imported above
    register: Register,
    bus: Bus,
    offers: Tap,
    db: asyncpg.Connection,
    sdb: asyncpg.Connection,  # noqa: F811 - the fixture imported above
) -> None:
    await register("rhein-shuttle", "transfer")
    inquiry_id = str(uuid.uuid4())
    await confirm(bus, confirmed(inquiry_id, ("transfer", transfer())))
    ride = offer_to(await offers.until(lambda s: len(s) == 1), "rhein-shuttle")

    await reply(
        bus,
        "rhein-shuttle",
        SupportRequest(
            booking_id=ride.booking_id,
            topic="patient_not_at_meeting_point",
            message="Nobody at exit A after 40 minutes",
        ),
    )
    case = await eventually(
        lambda: sdb.fetchrow(
            "SELECT origin, inquiry_id, partner_id, category, priority FROM cases "
            "WHERE booking_id = $1",
            uuid.UUID(ride.booking_id),
        ),
        timeout=15,
    )
    assert dict(case) == {
        "origin": "partner",
        "inquiry_id": uuid.UUID(inquiry_id),
        "partner_id": "rhein-shuttle",
        "category": "transfer",
        "priority": "urgent",
    }


async def test_a_request_about_a_booking_never_offered_is_a_dead_letter_and_opens_nothing(
    client: Client,
    support: Client,  # noqa: F811 - the fixture imported above
    register: Register,
    bus: Bus,
    offers: Tap,
    db: asyncpg.Connection,
    sdb: asyncpg.Connection,  # noqa: F811 - the fixture imported above
) -> None:
    await register("rhein-shuttle", "transfer")
    await register("kyiv-courier", "shipment")
    await confirm(bus, confirmed(str(uuid.uuid4()), ("transfer", transfer())))
    ride = offer_to(await offers.until(lambda s: len(s) == 1), "rhein-shuttle")

    await reply(bus, "kyiv-courier", SupportRequest(booking_id=ride.booking_id, message="hi"))
    letters = await eventually(lambda: dead_letters(db), timeout=20)
    assert any("holds no booking" in error for _, error in letters), letters
    assert await sdb.fetchval("SELECT count(*) FROM cases") == 0
