"""While inquiries flow to confirmation and the partners book them (each step bringing the patient
an email), the notifications process is killed with SIGKILL, three times, mid-flow, and started
again. Afterwards every message recorded sent is at the SMTP catcher (.stack/mail), and no
message was invented or lost: the distinct Message-IDs caught are exactly the rows sent. A kill
between sending and recording may repeat a message, at most one per kill, and the repeat
carries the same Message-ID (the receiving side can tell)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import pytest

from tests.faults.stack import FaultyStack, running_stack
from tests.faults.traffic import Traffic

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

KILLS = 3
RATE = 1.0
GAP = 3.0
SETTLE_DEADLINE = 90.0
# A message held by a killed sender comes back after the lease, in a test's time.
OVERRIDES = {
    "NOTIFICATIONS_SMTP_TIMEOUT": "3",
    "NOTIFICATIONS_LEASE": "5",
    "NOTIFICATIONS_SEND_INTERVAL": "0.2",
    "NOTIFICATIONS_RETRY_BASE": "0.5",
    "NOTIFICATIONS_RETRY_CAP": "2",
}


def caught(folder: Path) -> Counter[str]:
    """The notification id in each caught message's Message-ID, counted."""
    ids: Counter[str] = Counter()
    for path in folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        ids[str(message["Message-ID"]).strip("<>").partition("@")[0]] += 1
    return ids


async def rows(database_url: str) -> dict[str, str]:
    """Each message's status; an offer's reminder, not yet due or cancelled by the acceptance,
    is left out (it is not part of the flow)."""
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        found = await conn.fetch(
            """SELECT id::text, status FROM notifications.notifications
               WHERE kind <> 'offer_expiring'"""
        )
    finally:
        await conn.close()
    return {r["id"]: r["status"] for r in found}


async def due(database_url: str) -> int:
    """Messages still to send now (not reminders whose time has not come)."""
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        count: int = await conn.fetchval(
            """SELECT count(*) FROM notifications.notifications
               WHERE status = 'pending' AND kind <> 'offer_expiring'"""
        )
    finally:
        await conn.close()
    return count


async def settle(stack: FaultyStack, submitted: int, deadline: float) -> dict[str, str]:
    """The rows once every inquiry's messages are made and sent (or the deadline passed)."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        found = await rows(stack.database_url)
        # Each inquiry: received, confirmed, and its two bookings confirmed at least.
        made = len(found) >= 4 * submitted
        if made and await due(stack.database_url) == 0 and await stack.in_flight() == 0:
            return found
        await asyncio.sleep(1.0)
    return await rows(stack.database_url)


async def test_killing_the_sender_mid_flow_loses_and_invents_no_message(
    tmp_path: Path, report: list[str]
) -> None:
    async with running_stack(tmp_path / "stack", OVERRIDES) as stack:
        traffic = Traffic(stack.manifest, rate=RATE, run_id=uuid.uuid4().hex[:8])
        stop = asyncio.Event()
        driving = asyncio.create_task(traffic.run(stop))
        try:
            for _ in range(KILLS):
                await asyncio.sleep(GAP)
                await stack.kill("notifications")
            await asyncio.sleep(GAP)
        finally:
            stop.set()
            await driving
        found = await settle(stack, len(traffic.inquiries), SETTLE_DEADLINE)
        errors = stack.errors_logged()

    at_catcher = caught(tmp_path / "stack" / "mail")
    sent = {i for i, status in found.items() if status == "sent"}
    repeated = {i: n - 1 for i, n in at_catcher.items() if n > 1}
    statuses = Counter(found.values())
    report.append(
        f"notifications: {len(traffic.inquiries)} inquiries, {KILLS} kills of the sender, "
        f"{len(found)} messages {dict(statuses)}, {sum(at_catcher.values())} caught "
        f"({len(at_catcher)} Message-IDs), repeats {sum(repeated.values())}"
    )
    assert traffic.failures == []
    assert [f.target for f in stack.faults] == ["notifications"] * KILLS
    # Nothing lost: every message recorded sent is at the catcher; nothing left to send.
    assert sent <= set(at_catcher)
    assert statuses.keys() == {"sent"}
    # Nothing invented: every Message-ID caught is a message recorded sent.
    assert set(at_catcher) <= sent
    # A kill repeats at most the one message it interrupted, under the same Message-ID.
    assert sum(repeated.values()) <= KILLS
    assert errors == []
