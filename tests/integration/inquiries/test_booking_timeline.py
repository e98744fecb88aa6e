"""The patient's timeline shows the bookings logistics confirmed, learned from its events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contracts.envelope import NATS_MSG_ID
from contracts.logistics import BookingStatus, BookingStatusChanged
from contracts.registry import BOOKING_STATUS_CHANGED
from services.runtime.core.db import create_pool, transaction
from services.runtime.core.settings import ServiceSettings
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.outbox import Outbox, Relay
from tests.inquiry_samples import SUBMISSION
from tests.support import eventually

Client = AsyncTestClient[Litestar]
Announce = Callable[[BookingStatusChanged], Awaitable[None]]
T0 = datetime(2027, 2, 1, 9, tzinfo=UTC)
CONSUMER = "inquiries-booking-timeline"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "inquiries"})
    await conn.execute(
        "INSERT INTO known_conditions (slug, revision, locales) "
        "VALUES ('mitral-valve-insufficiency', 1, '{en,de}')"
    )
    yield conn
    await conn.close()


@pytest.fixture
async def announce(settings: ServiceSettings) -> AsyncIterator[Announce]:
    """Publish booking events the way the logistics service does: its outbox, its relay."""
    pool = await create_pool(settings.database_url, schema="logistics", min_size=1, max_size=2)
    bus = await Bus.connect(settings.nats_url, name="logistics", namespace=settings.nats_namespace)
    outbox = Outbox(source="/carebridge/logistics", schema="logistics")

    async def send(event: BookingStatusChanged) -> None:
        async with transaction(pool) as conn:
            await outbox.emit(conn, BOOKING_STATUS_CHANGED.subject(), event)
        await Relay(pool, bus, schema="logistics", batch_size=10, poll_interval=1).publish_pending()

    yield send
    await bus.close()
    await pool.close()


@pytest.fixture
async def patient(client: Client, db: asyncpg.Connection) -> dict[str, Any]:
    response = await client.post("/v1/inquiries", json=SUBMISSION)
    assert response.status_code == 201, response.text
    submitted: dict[str, Any] = response.json()
    return submitted


def booking(
    patient: dict[str, Any] | None,
    booking_id: str,
    version: int,
    to_status: BookingStatus,
    *,
    progress: str | None = None,
) -> BookingStatusChanged:
    return BookingStatusChanged(
        booking_id=booking_id,
        inquiry_id=None if patient is None else patient["id"],
        kind="transfer",
        from_status="offered",
        to_status=to_status,
        version=version,
        partner_id="rhein-transfer",
        partner_name="Rhein Transfer",
        progress=progress,
        changed_at=T0 + timedelta(minutes=version),
    )


async def bookings_seen(client: Client, patient: dict[str, Any]) -> list[tuple[str, str, Any]]:
    view = await client.get(
        patient["status_url"], headers={"Authorization": f"Bearer {patient['access_token']}"}
    )
    assert view.status_code == 200, view.text
    return [
        (e["detail"]["booking_id"], e["detail"]["to_status"], e["detail"]["progress"])
        for e in view.json()["timeline"]
        if e["kind"] == "booking"
    ]


async def applied(db: asyncpg.Connection, count: int) -> bool:
    """The consumer has taken `count` events (applied or skipped), in arrival order."""
    done = await db.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", CONSUMER)
    return bool(done == count)


async def test_confirmed_bookings_and_their_progress_appear_on_the_patient_timeline(
    client: Client, db: asyncpg.Connection, patient: dict[str, Any], announce: Announce
) -> None:
    transfer, interpreter = str(uuid.uuid4()), str(uuid.uuid4())
    await announce(booking(patient, transfer, 2, "offered"))
    await announce(booking(patient, transfer, 3, "confirmed"))
    await announce(booking(patient, interpreter, 2, "confirmed"))
    await announce(booking(patient, transfer, 4, "in_progress", progress="driver_assigned"))
    await announce(booking(None, str(uuid.uuid4()), 2, "confirmed"))  # another operator's

    async def shown() -> bool:
        return await bookings_seen(client, patient) == [
            (transfer, "confirmed", None),
            (interpreter, "confirmed", None),
            (transfer, "in_progress", "driver_assigned"),
        ]

    await eventually(shown)
    view = await client.get(
        patient["status_url"], headers={"Authorization": f"Bearer {patient['access_token']}"}
    )
    entry = view.json()["timeline"][-1]
    assert entry["detail"]["partner_name"] == "Rhein Transfer"
    assert entry["detail"]["kind"] == "transfer"
    assert entry["at"].startswith("2027-02-01T09:04:00")


async def test_a_late_older_booking_event_changes_nothing(
    client: Client, db: asyncpg.Connection, patient: dict[str, Any], announce: Announce
) -> None:
    transfer = str(uuid.uuid4())
    await announce(booking(patient, transfer, 5, "completed", progress="dropped_off"))
    await announce(booking(patient, transfer, 3, "confirmed"))  # arrives late

    await eventually(lambda: applied(db, 2))
    assert await bookings_seen(client, patient) == [(transfer, "completed", "dropped_off")]
    kept = await db.fetchrow(
        "SELECT status, version FROM booking_progress WHERE booking_id = $1", transfer
    )
    assert dict(kept.items()) == {"status": "completed", "version": 5}


async def test_an_event_delivered_twice_shows_once(
    client: Client,
    db: asyncpg.Connection,
    patient: dict[str, Any],
    announce: Announce,
    bus: Bus,
) -> None:
    transfer = str(uuid.uuid4())
    await announce(booking(patient, transfer, 3, "confirmed"))
    await eventually(lambda: applied(db, 1))
    first = await bus.js.get_last_msg(
        bus.stream(BOOKING_STATUS_CHANGED.stream), bus.subject(BOOKING_STATUS_CHANGED.subject())
    )
    # Re-published after the stream's duplicate window: the same event (ce-id), a new message.
    headers = {**(first.headers or {}), NATS_MSG_ID: str(uuid.uuid4())}
    await bus.js.publish(first.subject, first.data, headers=headers)
    await announce(booking(patient, str(uuid.uuid4()), 2, "offered"))  # a marker behind it

    await eventually(lambda: applied(db, 2))
    assert await bookings_seen(client, patient) == [(transfer, "confirmed", None)]


async def test_a_booking_for_an_unknown_inquiry_becomes_a_dead_letter(
    client: Client, db: asyncpg.Connection, announce: Announce
) -> None:
    stranger = {"id": str(uuid.uuid4())}
    await announce(booking(stranger, str(uuid.uuid4()), 2, "confirmed"))

    async def dead_lettered() -> bool:
        errors = await db.fetch("SELECT error FROM dead_letters WHERE consumer = $1", CONSUMER)
        return [stranger["id"] in r["error"] for r in errors] == [True]

    await eventually(dead_lettered)
    assert await db.fetchval("SELECT count(*) FROM booking_progress") == 0
