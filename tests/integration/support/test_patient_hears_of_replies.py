"""An agent's reply in a patient's case tells the patient, through the real services: support
announces it (outbox, `support.case.replied.v1`, ids and language only), notifications mails
it through its inbox to a real SMTP server, in the patient's language, with the link to the
case and nothing of the reply or of their health."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import asyncpg

from contracts.inquiries import PersonalDataErased
from contracts.logistics import PartnerSupportRequested
from contracts.registry import INQUIRY_ERASED, PARTNER_SUPPORT_REQUESTED, SUPPORT_CASE_REPLIED
from contracts.support import CaseReplied, support_event_decoder
from services.runtime.messaging.bus import Bus
from tests.integration.inquiries.casefile import patient, submit
from tests.integration.logistics.conftest import Tap, publish
from tests.integration.notifications.conftest import Client, Mailbox
from tests.integration.support.test_support_desk import desk, open_case
from tests.support import eventually

Headers = Callable[[str], dict[str, str]]
PATIENT = "olena@example.org"  # the sample submission's, language uk
REPLY_SUBJECT = "Вам відповіла наша служба підтримки"
WRITTEN = "Біль в грудях після операції на мітральному клапані"
REPLY = "Водій чекає біля виходу B, телефон +49 151 000000"


def replies_to(mailbox: Mailbox, address: str) -> list[EmailMessage]:
    return [m for m in mailbox.to(address) if m["Subject"] == REPLY_SUBJECT]


async def agent_reply(support: Client, headers: Headers, case_id: str, text: str) -> int:
    answer = await support.post(
        f"/v1/support/desk/cases/{case_id}/messages",
        json={"message": text},
        headers=headers("support_agent"),
    )
    return answer.status_code


async def replies_tap(bus: Bus) -> Tap:
    """What support announced on `support.case.replied.v1`, read from the real stream."""
    tap = Tap(bus, "SUPPORT", SUPPORT_CASE_REPLIED.address, support_event_decoder)
    await tap.open()
    return tap


async def announced(tap: Tap) -> list[CaseReplied]:
    return [event for _, event in await tap.read() if isinstance(event, CaseReplied)]


async def test_an_agents_reply_brings_the_patient_one_email_in_their_language_without_the_reply(
    inquiries: Client,
    support: Client,
    notifications: Client,
    mailbox: Mailbox,
    staff_headers: Headers,
    ndb: asyncpg.Connection,
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    submitted = await submit(inquiries)
    opened = await open_case(
        support, submitted, category="medical", priority="normal", language="uk", message=WRITTEN
    )
    # The patient's own message tells nobody; the agent's reply tells the patient.
    own = await support.post(
        f"/v1/support/cases/{opened['id']}/messages",
        json={"message": "Ще одне питання"},
        headers=patient(submitted),
    )
    assert own.status_code == 204, own.text
    assert await agent_reply(support, staff_headers, opened["id"], REPLY) == 204

    [mail] = await eventually(lambda: _replies(mailbox), timeout=20)
    assert mail["Content-Language"] == "uk"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    link = f"http://127.0.0.1:3000/support?inquiry={submitted['id']}&case={opened['id']}"
    assert link in text
    assert f'href="{link.replace("&", "&amp;")}"' in html
    whole = (mail.as_string() + text + html).lower()
    for secret in (REPLY, "Водій", WRITTEN, "мітральн", "Ще одне", submitted["access_token"]):
        assert secret.lower() not in whole

    async def recorded() -> asyncpg.Record | None:
        return await ndb.fetchrow(
            "SELECT params FROM notifications WHERE kind = 'support_replied' AND status = 'sent'"
        )

    row = await eventually(recorded, timeout=10)
    assert REPLY not in row["params"]
    assert len(replies_to(mailbox, PATIENT)) == 1


async def _replies(mailbox: Mailbox) -> list[EmailMessage]:
    return replies_to(mailbox, PATIENT)


async def test_a_redelivered_reply_event_sends_once_and_partner_cases_tell_nobody(
    inquiries: Client,
    support: Client,
    notifications: Client,
    mailbox: Mailbox,
    staff_headers: Headers,
    bus: Bus,
    sdb: asyncpg.Connection,
    ndb: asyncpg.Connection,
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    tap = await replies_tap(bus)
    submitted = await submit(inquiries)
    # A partner's case about the patient's booking: the desk's business, not a message.
    await publish(
        bus,
        PARTNER_SUPPORT_REQUESTED.address,
        PartnerSupportRequested(
            booking_id=str(uuid.uuid4()),
            inquiry_id=submitted["id"],
            booking_kind="transfer",
            partner_id="rhein-shuttle",
            topic="patient_not_at_meeting_point",
            message="Patient not at exit A",
            requested_at=datetime.now(UTC),
        ),
        source="logistics",
    )
    partner_case = await eventually(
        lambda: sdb.fetchval("SELECT id::text FROM cases WHERE origin = 'partner'"), timeout=10
    )
    assert await agent_reply(support, staff_headers, partner_case, "On my way") == 204

    opened = await open_case(
        support, submitted, category="transfer", priority="normal", language="uk", message="?"
    )
    assert await agent_reply(support, staff_headers, opened["id"], REPLY) == 204
    await eventually(lambda: _replies(mailbox), timeout=20)
    # Announced once, after the partner case's reply (the outbox keeps order): that one told
    # nobody.
    [event] = await announced(tap)
    assert event == CaseReplied(case_id=opened["id"], inquiry_id=submitted["id"], language="uk")
    event_id = await ndb.fetchval(
        "SELECT event_id FROM inbox WHERE consumer = 'notifications-support'"
    )
    # The same event again, past the stream's duplicate window (another Nats-Msg-Id) ...
    await publish(
        bus,
        SUPPORT_CASE_REPLIED.address,
        event,
        source="/carebridge/support",
        event_id=event_id,
        msg_id=str(uuid.uuid4()),
    )
    # ... and a second reply behind it: once its mail is out, the copy before it was applied.
    assert await agent_reply(support, staff_headers, opened["id"], "Ще раз") == 204

    async def second() -> bool:
        return len(replies_to(mailbox, PATIENT)) >= 2

    await eventually(second, timeout=20)
    assert len(replies_to(mailbox, PATIENT)) == 2
    count = await ndb.fetchval("SELECT count(*) FROM notifications WHERE kind = 'support_replied'")
    assert count == 2
    await tap.close()


async def test_an_erased_case_tells_nobody_of_a_reply(
    inquiries: Client,
    support: Client,
    notifications: Client,
    mailbox: Mailbox,
    staff_headers: Headers,
    bus: Bus,
    sdb: asyncpg.Connection,
    ndb: asyncpg.Connection,
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    tap = await replies_tap(bus)
    submitted = await submit(inquiries)
    opened = await open_case(
        support, submitted, category="billing", priority="normal", language="uk", message="?"
    )
    assert await agent_reply(support, staff_headers, opened["id"], REPLY) == 204
    await eventually(lambda: _replies(mailbox), timeout=20)
    await publish(
        bus,
        INQUIRY_ERASED.address,
        PersonalDataErased(inquiry_id=submitted["id"], erased_at=datetime.now(UTC)),
        source="/carebridge/inquiries",
    )

    async def erased() -> Any:
        return await sdb.fetchval(
            "SELECT erased_at FROM cases WHERE id = $1", uuid.UUID(opened["id"])
        )

    await eventually(erased, timeout=10)
    assert await agent_reply(support, staff_headers, opened["id"], "Ще раз") == 409
    assert await sdb.fetchval("SELECT count(*) FROM outbox") == 0  # nothing left to relay
    assert len(await announced(tap)) == 1  # the reply before the erasure only
    assert len(replies_to(mailbox, PATIENT)) == 1
    assert (
        await ndb.fetchval("SELECT count(*) FROM notifications WHERE kind = 'support_replied'") == 1
    )
    await tap.close()
