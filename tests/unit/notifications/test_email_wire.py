"""The email as it goes on the wire: long subjects in Cyrillic or Arabic arrive word for word
(Python's default folder drops the space where it splits between two encoded words)."""

from __future__ import annotations

import email
import email.policy

import pytest

from services.notifications.delivery.email import WIRE, SmtpConfig, build
from services.notifications.domain.model import Composed
from services.notifications.rendering import Rendered

CONFIG = SmtpConfig(host="127.0.0.1", port=25, security="none", sender="Carebridge <n@c.example>")


@pytest.mark.parametrize(
    "subject",
    [
        "Заброньовано: трансфер з аеропорту",
        "Ваш водій: трансфер з аеропорту, зустріч біля виходу A, термінал 1",
        "سائقك لخدمة نقل من المطار إلى المستشفى مع تفاصيل إضافية",
        "Action needed: booking 5d2b7e1a-3c4f-4a8b-9e6d-1f0a2b3c4d5e has no partner",
    ],
)
def test_a_long_subject_arrives_word_for_word(subject: str) -> None:
    message = Composed(
        notification_id="9c8b7a6f-5e4d-4c3b-8a29-1f0e9d8c7b6a",
        kind="booking_confirmed",
        channel="email",
        to="olena@example.org",
        language="uk",
        inquiry_id=None,
        params={},
    )
    rendered = Rendered(subject=subject, text="t", html="<p>t</p>", language="uk", direction="ltr")

    wire = build(CONFIG, message, rendered).as_bytes(policy=WIRE)

    assert all(len(line) <= 78 for line in wire.split(b"\r\n"))
    received = email.message_from_bytes(wire, policy=email.policy.default)
    assert received["Subject"] == subject
