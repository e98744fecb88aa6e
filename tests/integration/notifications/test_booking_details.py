"""The booking details a patient needs, as logistics carries them on its status event: the
patient's view (inquiries) shows them, and the patient gets them by email (notifications),
while neither service keeps them in plain text."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from contracts.logistics import Arrangement, BookingStatusChanged
from contracts.registry import BOOKING_STATUS_CHANGED
from services.runtime.messaging.bus import Bus
from tests.integration.inquiries.casefile import patient, submit
from tests.integration.logistics.conftest import publish
from tests.integration.notifications.conftest import Client, Mailbox
from tests.support import eventually, every_value

PATIENT = "olena@example.org"
DRIVER = Arrangement(
    driver_name="Jan Berger",
    driver_phone="+4915112345678",
    vehicle="Mercedes V-Class, F-CB 1234",
    meeting_point="FRA arrivals hall, exit A",
)


def step(
    inquiry_id: str, booking_id: str, version: int, to_status: str, **more: object
) -> BookingStatusChanged:
    return BookingStatusChanged(
        booking_id=booking_id,
        inquiry_id=inquiry_id,
        kind="transfer",
        from_status="offered" if to_status == "confirmed" else "confirmed",
        to_status=to_status,  # type: ignore[arg-type]
        version=version,
        partner_id="rhein-shuttle",
        partner_name="Rhein Shuttle GmbH",
        changed_at=datetime.now(UTC),
        **more,  # type: ignore[arg-type]
    )


async def test_the_driver_reaches_the_patients_view_and_inbox_and_rests_sealed(
    inquiries: Client,
    notifications: Client,
    mailbox: Mailbox,
    bus: Bus,
    ndb: asyncpg.Connection,
    casedb: asyncpg.Connection,
) -> None:
    submitted = await submit(inquiries)
    inquiry_id, booking_id = submitted["id"], str(uuid.uuid4())
    source = "/carebridge/logistics"
    await publish(
        bus,
        BOOKING_STATUS_CHANGED.address,
        step(inquiry_id, booking_id, 3, "confirmed"),
        source=source,
    )
    await publish(
        bus,
        BOOKING_STATUS_CHANGED.address,
        step(
            inquiry_id,
            booking_id,
            4,
            "in_progress",
            progress="driver_assigned",
            arrangement=DRIVER,
        ),
        source=source,
    )

    async def mails() -> list[str]:
        subjects = [str(m["Subject"]) for m in mailbox.to(PATIENT)]
        return subjects if len(subjects) == 3 else []

    subjects = await eventually(mails, timeout=15)
    assert sorted(subjects) == sorted(
        [
            "Ми отримали ваш запит",
            "Заброньовано: трансфер з аеропорту",
            "Ваш водій: трансфер з аеропорту",
        ]
    )
    [arranged] = [
        m for m in mailbox.to(PATIENT) if m["Subject"] == "Ваш водій: трансфер з аеропорту"
    ]
    text = arranged.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for shown in ("Jan Berger", "+4915112345678", "F-CB 1234", "FRA arrivals hall, exit A"):
        assert shown in text

    view = await inquiries.get(f"/v1/inquiries/{inquiry_id}", headers=patient(submitted))
    [booking] = view.json()["bookings"]
    assert booking["booking_id"] == booking_id
    assert booking["progress"] == "driver_assigned"
    assert booking["arrangement"] == {
        "driver_name": "Jan Berger",
        "driver_phone": "+4915112345678",
        "vehicle": "Mercedes V-Class, F-CB 1234",
        "meeting_point": "FRA arrivals hall, exit A",
    }
    for schema, conn in (("notifications", ndb), ("inquiries", casedb)):
        dump = await every_value(conn, schema)
        assert not [t for t, text in dump.items() if "Jan Berger" in text or "F-CB 1234" in text]
