"""Notifications end to end on real servers: inquiries' events consumed through the inbox, the
patient's contact asked of a running inquiries service, the message sent to a real SMTP server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from contracts.inquiries import InquirySubmitted, PersonalDataErased
from contracts.logistics import BookingStatusChanged, OperatorAlert
from contracts.notifications import NotificationFailed, notification_event_decoder
from contracts.operations import DeadLetterRecorded, operations_event_decoder
from contracts.registry import (
    BOOKING_STATUS_CHANGED,
    INQUIRY_ERASED,
    INQUIRY_SUBMITTED,
    OPERATOR_ALERT,
)
from services.runtime.messaging.bus import Bus
from tests.inquiry_samples import SUBMISSION
from tests.integration.inquiries.casefile import submit
from tests.integration.logistics.conftest import Tap, publish
from tests.integration.notifications.conftest import ONCALL, Client, Mailbox
from tests.support import eventually

PATIENT = "olena@example.org"
# What the submission says about her health: none of it may reach an email.
HEALTH = (
    SUBMISSION["description"],
    "regurgitation",
    "mitral",
    SUBMISSION["condition_slug"],
)


async def statuses(ndb: asyncpg.Connection, inquiry_id: str) -> list[tuple[str, str, int]]:
    rows = await ndb.fetch(
        """SELECT kind, status, attempts FROM notifications
           WHERE inquiry_id = $1 ORDER BY created_at""",
        uuid.UUID(inquiry_id),
    )
    return [(r["kind"], r["status"], r["attempts"]) for r in rows]


async def test_a_ukrainian_inquiry_brings_one_ukrainian_email_with_its_status_link_and_no_health(
    inquiries: Client, notifications: Client, mailbox: Mailbox, ndb: asyncpg.Connection
) -> None:
    submitted = await submit(inquiries)
    inquiry_id = submitted["id"]

    async def delivered() -> bool:
        return await statuses(ndb, inquiry_id) == [("inquiry_received", "sent", 1)]

    await eventually(delivered, timeout=15)
    [message] = mailbox.to(PATIENT)
    assert message["Subject"] == "Ми отримали ваш запит"
    assert message["Content-Language"] == "uk"
    assert message["Reply-To"] == "care@carebridge.example"
    notification_id = await ndb.fetchval("SELECT id::text FROM notifications")
    assert message["Message-ID"] == f"<{notification_id}@carebridge.example>"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    link = f"http://127.0.0.1:3000/status?inquiry={inquiry_id}"
    assert link in text
    assert f'href="{link}"' in html
    assert 'lang="uk"' in html
    whole = message.as_string() + text + html
    assert submitted["access_token"] not in whole
    for health in HEALTH:
        assert health.lower() not in whole.lower()


async def test_a_redelivered_event_sends_nothing_twice(
    inquiries: Client,
    notifications: Client,
    mailbox: Mailbox,
    ndb: asyncpg.Connection,
    bus: Bus,
) -> None:
    submitted = await submit(inquiries)
    inquiry_id = submitted["id"]
    await eventually(lambda: _sent(ndb, inquiry_id, 1), timeout=15)
    event_id = await ndb.fetchval(
        "SELECT event_id FROM inbox WHERE consumer = 'notifications-inquiry-lifecycle'"
    )
    # The same event again, past the stream's duplicate window (another Nats-Msg-Id).
    again = InquirySubmitted(
        inquiry_id=inquiry_id,
        condition_slug="mitral-valve-insufficiency",
        preferred_country="DE",
        services=("transfer",),
        source="heart-clinic-finder.example",
        submitted_at=datetime.now(UTC),
    )
    await publish(
        bus,
        INQUIRY_SUBMITTED.address,
        again,
        source="/carebridge/inquiries",
        event_id=str(event_id),
        msg_id=str(uuid.uuid4()),
    )
    # A fresh event behind it: once it is applied, the copy before it was too.
    await publish(bus, OPERATOR_ALERT.address, _unassigned(), source="/carebridge/logistics")
    await eventually(lambda: _mail_to(mailbox, ONCALL), timeout=15)
    assert len(mailbox.to(PATIENT)) == 1
    assert (
        await ndb.fetchval(
            "SELECT count(*) FROM notifications WHERE inquiry_id = $1", uuid.UUID(inquiry_id)
        )
        == 1
    )


async def test_a_temporary_refusal_is_retried_and_the_message_arrives_once(
    inquiries: Client, notifications: Client, mailbox: Mailbox, ndb: asyncpg.Connection
) -> None:
    mailbox.data_answers = ["451 4.3.0 try again later", "451 4.3.0 try again later"]
    submitted = await submit(inquiries)
    await eventually(lambda: _sent(ndb, submitted["id"], 3), timeout=20)
    assert len(mailbox.to(PATIENT)) == 1
    assert mailbox.refusals == 2


async def test_a_permanent_refusal_is_recorded_and_alerts_on_call(
    inquiries: Client,
    notifications: Client,
    mailbox: Mailbox,
    ndb: asyncpg.Connection,
    bus: Bus,
) -> None:
    tap = Tap(bus, "NOTIFICATIONS", "notifications.notification.>", notification_event_decoder)
    await tap.open()
    mailbox.refused[PATIENT] = "550 5.1.1 <olena@example.org>: mailbox unavailable"
    submitted = await submit(inquiries)
    inquiry_id = submitted["id"]

    async def failed() -> bool:
        return ("inquiry_received", "failed", 1) in await statuses(ndb, inquiry_id)

    await eventually(failed, timeout=15)
    [alert] = await eventually(lambda: _mail_to(mailbox, ONCALL), timeout=15)
    assert "inquiry_received" in alert["Subject"]
    assert PATIENT not in alert.as_string()
    seen = await tap.until(lambda seen: len(seen) >= 1)
    [(subject, event)] = seen
    assert subject == "notifications.notification.failed.v1"
    assert isinstance(event, NotificationFailed)
    assert (event.inquiry_id, event.reason) == (inquiry_id, "smtp 550 recipient refused")
    # The address the server quoted is kept sealed only.
    row = await ndb.fetchrow(
        "SELECT last_error, sealed_reply FROM notifications WHERE kind = 'inquiry_received'"
    )
    assert row["last_error"] == "smtp 550 recipient refused"
    assert b"olena" not in row["sealed_reply"]
    await tap.close()


async def test_an_erasure_stops_a_pending_message(
    inquiries: Client,
    notifications: Client,
    mailbox: Mailbox,
    ndb: asyncpg.Connection,
    bus: Bus,
) -> None:
    mailbox.data_answers = ["451 4.3.0 try again later"] * 1000
    submitted = await submit(inquiries)
    inquiry_id = submitted["id"]

    async def retried() -> bool:
        return mailbox.refusals >= 1

    await eventually(retried, timeout=15)
    await publish(
        bus,
        INQUIRY_ERASED.address,
        PersonalDataErased(inquiry_id=inquiry_id, erased_at=datetime.now(UTC)),
        source="/carebridge/inquiries",
    )

    async def cancelled() -> bool:
        return await statuses(ndb, inquiry_id) == [("inquiry_received", "cancelled", 1)] or any(
            s == "cancelled" for _, s, _ in await statuses(ndb, inquiry_id)
        )

    await eventually(cancelled, timeout=15)
    mailbox.data_answers = []
    refusals = mailbox.refusals
    await publish(bus, OPERATOR_ALERT.address, _unassigned(), source="/carebridge/logistics")
    await eventually(lambda: _mail_to(mailbox, ONCALL), timeout=15)
    assert mailbox.to(PATIENT) == []
    assert mailbox.refusals <= refusals + 1  # at most the attempt already on its way
    assert (
        await ndb.fetchval(
            "SELECT params::text FROM notifications WHERE inquiry_id = $1", uuid.UUID(inquiry_id)
        )
        == "{}"
    )


async def test_an_unassigned_booking_reaches_the_on_call_address_with_what_to_do(
    notifications: Client, mailbox: Mailbox, bus: Bus
) -> None:
    alert = _unassigned()
    await publish(bus, OPERATOR_ALERT.address, alert, source="/carebridge/logistics")
    [message] = await eventually(lambda: _mail_to(mailbox, ONCALL), timeout=15)
    assert alert.booking_id is not None
    assert alert.booking_id in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "What to do" in text
    assert alert.detail in text


def _unassigned() -> OperatorAlert:
    return OperatorAlert(
        alert="booking_unassigned",
        booking_id=str(uuid.uuid4()),
        inquiry_id=str(uuid.uuid4()),
        detail="no active transfer partner left to offer the booking to",
        raised_at=datetime.now(UTC),
    )


async def _sent(ndb: asyncpg.Connection, inquiry_id: str, attempts: int) -> bool:
    return await statuses(ndb, inquiry_id) == [("inquiry_received", "sent", attempts)]


async def _mail_to(mailbox: Mailbox, address: str) -> list[object]:
    return mailbox.to(address)


async def test_a_dead_letter_in_another_service_reaches_on_call_with_what_to_do(
    inquiries: Client,
    notifications: Client,
    mailbox: Mailbox,
    bus: Bus,
    ndb: asyncpg.Connection,
) -> None:
    tap = Tap(bus, "INQUIRIES", "inquiries.dead_letter.>", operations_event_decoder)
    await tap.open()
    # A booking of an inquiry inquiries never announced: a fault an operator must see.
    stray = BookingStatusChanged(
        booking_id=str(uuid.uuid4()),
        inquiry_id=str(uuid.uuid4()),
        kind="transfer",
        from_status="offered",
        to_status="confirmed",
        version=2,
        changed_at=datetime.now(UTC),
    )
    await publish(bus, BOOKING_STATUS_CHANGED.address, stray, source="/carebridge/logistics")

    [message] = await eventually(lambda: _mail_to(mailbox, ONCALL), timeout=20)
    [(subject, event)] = await tap.until(lambda seen: len(seen) >= 1)
    assert subject == "inquiries.dead_letter.recorded.v1"
    assert isinstance(event, DeadLetterRecorded)
    assert (event.service, event.consumer, event.error_type) == (
        "inquiries",
        "inquiries-booking-timeline",
        "NotFound",
    )
    assert message["Subject"] == "Action needed: a dead letter in inquiries"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"/admin/dead-letters/{event.dead_letter_id}/replay" in text
    # Ids, the consumer and the error's type: never the message itself.
    assert stray.inquiry_id not in text
    assert stray.inquiry_id not in await ndb.fetchval("SELECT params::text FROM notifications")
    await tap.close()
