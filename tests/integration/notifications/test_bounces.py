"""A bounce that comes back after the SMTP server accepted the message: the message went out
with its own return path (VERP), a real delivery-status report (RFC 3464) is sent over SMTP to
the service's bounce listener, and the message is recorded failed, announced, and on-call told,
as a refusal during the exchange is."""

from __future__ import annotations

import aiosmtplib
import asyncpg
import pytest

from contracts.notifications import NotificationFailed, notification_event_decoder
from deploy.embedded import free_port
from services.runtime.messaging.bus import Bus
from tests.integration.inquiries.casefile import submit
from tests.integration.logistics.conftest import Tap
from tests.integration.notifications.conftest import ONCALL, Client, Mailbox, Start
from tests.integration.notifications.test_notification_delivery import PATIENT, statuses
from tests.support import eventually

BOUNCES = "bounces@carebridge.example"


def delivery_status_report(return_path: str) -> bytes:
    """What a receiving MX sends back when the mailbox turns out not to exist (RFC 3464)."""
    return (
        "From: MAILER-DAEMON@mx.example.org\r\n"
        f"To: {return_path}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"\r\n\r\n'
        "--dsn\r\nContent-Type: text/plain\r\n\r\n"
        "Your message could not be delivered to olena@example.org.\r\n"
        "--dsn\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; olena@example.org\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <olena@example.org>: user unknown\r\n\r\n"
        "--dsn--\r\n"
    ).encode()


async def bounce(port: int, recipient: str, report: bytes) -> None:
    """Deliver as an MX does: from the null sender (`MAIL FROM:<>`), as every bounce is."""
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=5) as client:
        await client.sendmail("", [recipient], report)


async def test_a_bounce_after_acceptance_fails_the_message_and_alerts_on_call(
    inquiries: Client,
    start: Start,
    mailbox: Mailbox,
    ndb: asyncpg.Connection,
    bus: Bus,
) -> None:
    tap = Tap(bus, "NOTIFICATIONS", "notifications.notification.>", notification_event_decoder)
    await tap.open()
    port = free_port()
    async with start(NOTIFICATIONS_BOUNCE_ADDRESS=BOUNCES, NOTIFICATIONS_BOUNCE_PORT=str(port)):
        submitted = await submit(inquiries)
        inquiry_id = submitted["id"]

        async def sent() -> bool:
            return await statuses(ndb, inquiry_id) == [("inquiry_received", "sent", 1)]

        await eventually(sent, timeout=15)
        notification_id = await ndb.fetchval("SELECT id::text FROM notifications")
        [return_path] = mailbox.return_paths
        assert return_path == f"bounces+{notification_id}@carebridge.example"
        assert len(mailbox.to(PATIENT)) == 1

        # Not a return path of ours: refused.
        postmaster = "postmaster@carebridge.example"
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await bounce(port, postmaster, delivery_status_report(postmaster))
        # The report, from the null sender as bounces are, to the message's return path; twice,
        # as a retrying MX may send it: recorded once.
        for _ in range(2):
            await bounce(port, return_path, delivery_status_report(return_path))

        async def failed() -> bool:
            return await statuses(ndb, inquiry_id) == [
                ("inquiry_received", "failed", 1),
                ("notification_failed", "sent", 1),
            ]

        await eventually(failed, timeout=15)
        assert await ndb.fetchval(
            "SELECT last_error FROM notifications WHERE kind = 'inquiry_received'"
        ) == ("bounced 5.1.1")
        [(_, event)] = await tap.until(lambda seen: len(seen) >= 1)
        assert isinstance(event, NotificationFailed)
        assert (event.notification_id, event.reason) == (notification_id, "bounced 5.1.1")
        [alert] = mailbox.to(ONCALL)
        assert "inquiry_received" in alert["Subject"]
        assert PATIENT not in alert.as_string()
    await tap.close()
