"""Bounces that arrive after the SMTP server accepted a message: each message is sent with its
own envelope sender (VERP, `bounces+<notification id>@domain`), so a delivery-status report
(RFC 3464) returned to that address names the message it is about. Pure: addresses and bytes in,
facts out."""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from email.message import Message

import msgspec

_VERP = re.compile(r"^(?P<local>[^@+]+)\+(?P<id>[0-9a-f-]{36})@(?P<domain>[^@\s]+)$", re.I)


class Bounce(msgspec.Struct, frozen=True, kw_only=True):
    """A recipient the report says the message could not reach for good."""

    notification_id: str
    # The report's status code (RFC 3463), e.g. "5.1.1": a code, never the address.
    status: str


def return_path(bounce_address: str, notification_id: str) -> str:
    """`bounces@carebridge.example` -> `bounces+<id>@carebridge.example`."""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}+{notification_id}@{domain}"


def notification_of(recipient: str, bounce_address: str) -> str | None:
    """The message a report sent to `recipient` is about, when it is one of our return paths."""
    found = _VERP.match(recipient.strip().strip("<>"))
    local, _, domain = bounce_address.rpartition("@")
    if (
        found is None
        or found["local"].lower() != local.lower()
        or found["domain"].lower() != domain.lower()
    ):
        return None
    try:
        return str(uuid.UUID(found["id"]))
    except ValueError:
        return None


def failed_statuses(raw: bytes) -> list[str]:
    """The status of each recipient a delivery-status report says failed for good (`Action:
    failed` with a 5.x.x status); empty for a delay, a success, or mail that is not a report."""
    report = email.message_from_bytes(raw, policy=email.policy.compat32)
    statuses = []
    for part in report.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        # The per-message fields first, then one block per recipient.
        blocks = payload[1:] if isinstance(payload, list) else []
        for block in blocks:
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip().split(" ")[0]
            if action == "failed" and re.fullmatch(r"5\.\d{1,3}\.\d{1,3}", status):
                statuses.append(status)
    return statuses
