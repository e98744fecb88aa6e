"""Reading asynchronous bounces: the VERP return path names the message, an RFC 3464 report
says whether a recipient failed for good."""

from __future__ import annotations

import uuid

from services.notifications.domain.bounces import failed_statuses, notification_of, return_path

BOUNCES = "bounces@carebridge.example"


def report(action: str, status: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.org\r\n"
        "To: bounces@carebridge.example\r\n"
        "Subject: Undelivered Mail\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; olena@example.org\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <olena@example.org>: user unknown\r\n\r\n"
        "--B--\r\n"
    ).encode()


def test_the_return_path_names_the_message_and_only_ours_are_read() -> None:
    notification_id = str(uuid.uuid4())
    path = return_path(BOUNCES, notification_id)
    assert path == f"bounces+{notification_id}@carebridge.example"
    assert notification_of(f"<{path.upper()}>", BOUNCES) == notification_id
    assert notification_of(f"other+{notification_id}@carebridge.example", BOUNCES) is None
    assert notification_of(f"bounces+{notification_id}@elsewhere.example", BOUNCES) is None
    assert notification_of("bounces+not-an-id@carebridge.example", BOUNCES) is None


def test_a_failed_recipient_is_a_bounce_and_a_delay_or_a_plain_mail_is_not() -> None:
    assert failed_statuses(report("failed", "5.1.1")) == ["5.1.1"]
    assert failed_statuses(report("delayed", "4.4.7")) == []
    assert failed_statuses(report("failed", "4.4.7")) == []
    assert failed_statuses(b"Subject: out of office\r\n\r\nI am away.\r\n") == []
