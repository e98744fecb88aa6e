"""The support desk's requests for an interpreter by phone, through a running logistics service
on real PostgreSQL and NATS: booked once however often the request comes, offered with what the
interpreter allow-list gives, refused (and nothing sent to a partner) without consent or an
inquiry, and a malformed request kept as a dead letter that changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import msgspec

from contracts.envelope import Metadata, event_type
from contracts.inquiries import ConsentBasis, ConsentWithdrawn, InquiryConfirmed
from contracts.logistics import InterpreterDetails, InterpreterRequestAnswered, Traveller
from contracts.partners import Offer
from contracts.registry import INQUIRY_CONSENT_WITHDRAWN, SUPPORT_INTERPRETER_REQUESTED
from contracts.support import InterpreterRequested
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import (
    Client,
    Register,
    Tap,
    dead_letters,
    of_type,
    publish,
)
from tests.integration.logistics.test_dispatch import confirm
from tests.support import eventually

CONSUMER = "logistics-support-interpreters"


def consented(inquiry_id: str) -> InquiryConfirmed:
    """A confirmation that booked nothing yet, with the patient's consent to partner sharing."""
    return InquiryConfirmed(
        inquiry_id=inquiry_id,
        version=6,
        bookings=(),
        confirmed_at=datetime.now(UTC),
        sharing_consent=ConsentBasis(
            purpose="partner_sharing", notice_version="2026-12", given_at=datetime.now(UTC)
        ),
    )


def asked(inquiry_id: str | None, *, language: str = "ar") -> InterpreterRequested:
    return InterpreterRequested(
        case_id=str(uuid.uuid4()),
        inquiry_id=inquiry_id,
        language=language,
        requested_at=datetime.now(UTC),
    )


async def request(
    bus: Bus, event: InterpreterRequested, *, event_id: str | None = None, msg_id: str | None = None
) -> str:
    return await publish(
        bus,
        SUPPORT_INTERPRETER_REQUESTED.subject(),
        event,
        source="/carebridge/support",
        event_id=event_id,
        msg_id=msg_id,
    )


async def applied(db: asyncpg.Connection, consumer: str, expected: int) -> bool:
    count = await db.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", consumer)
    return bool(count == expected)


async def test_a_redelivered_interpreter_request_books_one_phone_session(
    client: Client, register: Register, bus: Bus, offers: Tap, db: asyncpg.Connection
) -> None:
    await register("lingua-ar", "interpreter", languages=["ar", "de"])
    inquiry = str(uuid.uuid4())
    await confirm(bus, consented(inquiry))
    await eventually(lambda: applied(db, "logistics-inquiry-lifecycle", 1), timeout=10)
    wanted = asked(inquiry)

    first = await request(bus, wanted)
    # The same event again past the stream's duplicate window, and re-sent under a new id.
    await request(bus, wanted, event_id=first, msg_id=str(uuid.uuid4()))
    await request(bus, wanted)

    await eventually(lambda: applied(db, CONSUMER, 2), timeout=10)
    rows = await db.fetch(
        "SELECT kind, status, inquiry_id FROM bookings WHERE support_case_id = $1", wanted.case_id
    )
    assert [(r["kind"], r["status"], r["inquiry_id"]) for r in rows] == [
        ("interpreter", "offered", inquiry)
    ]
    (subject, offer) = (await offers.until(lambda s: len(s) == 1))[0]
    assert subject == "partners.lingua-ar.offers.interpreter"
    assert isinstance(offer, Offer)
    assert isinstance(offer.details, InterpreterDetails)
    # What the interpreter allow-list gives: the languages, the session, whom it serves.
    sent = msgspec.to_builtins(offer.details)
    assert sent["language_from"] == "ar"
    assert sent["language_to"] == "de"
    assert offer.details.patient == Traveller(full_name="Carebridge support desk")
    assert sent["sessions"][0]["place"].startswith("By phone")
    assert len(await offers.read()) == 1


async def test_without_consent_nothing_reaches_a_partner_and_the_case_is_told_why(
    client: Client, register: Register, bus: Bus, offers: Tap, events: Tap, db: asyncpg.Connection
) -> None:
    await register("lingua-ar", "interpreter", languages=["ar", "de"])
    wanted = asked(str(uuid.uuid4()))  # an inquiry logistics holds no consent for
    partners_case = asked(None)

    await request(bus, wanted)
    await request(bus, partners_case)

    seen = await events.until(lambda s: len(of_type(s, InterpreterRequestAnswered)) == 2)
    answers = {a.case_id: a for a in of_type(seen, InterpreterRequestAnswered)}
    assert (answers[wanted.case_id].outcome, answers[wanted.case_id].reason) == (
        "refused",
        "no_consent",
    )
    assert answers[partners_case.case_id].reason == "no_inquiry"
    assert await db.fetchval("SELECT count(*) FROM bookings") == 0
    assert await offers.read() == []


async def test_after_the_patient_withdrew_consent_to_partner_sharing_nothing_is_booked(
    client: Client, register: Register, bus: Bus, offers: Tap, events: Tap, db: asyncpg.Connection
) -> None:
    await register("lingua-ar", "interpreter", languages=["ar", "de"])
    inquiry = str(uuid.uuid4())
    await confirm(bus, consented(inquiry))
    await publish(
        bus,
        INQUIRY_CONSENT_WITHDRAWN.subject(),
        ConsentWithdrawn(
            inquiry_id=inquiry, purpose="partner_sharing", withdrawn_at=datetime.now(UTC)
        ),
        source="/carebridge/inquiries",
    )
    await eventually(lambda: applied(db, "logistics-inquiry-lifecycle", 2), timeout=10)
    wanted = asked(inquiry)

    await request(bus, wanted)

    seen = await events.until(lambda s: len(of_type(s, InterpreterRequestAnswered)) == 1)
    (answer,) = of_type(seen, InterpreterRequestAnswered)
    assert (answer.case_id, answer.outcome, answer.reason) == (
        wanted.case_id,
        "refused",
        "no_consent",
    )
    assert await db.fetchval("SELECT count(*) FROM bookings") == 0
    assert await offers.read() == []


async def test_a_malformed_interpreter_request_is_a_dead_letter_and_changes_nothing(
    client: Client, register: Register, bus: Bus, offers: Tap, events: Tap, db: asyncpg.Connection
) -> None:
    await register("lingua-ar", "interpreter", languages=["ar", "de"])
    inquiry = str(uuid.uuid4())
    await confirm(bus, consented(inquiry))
    meta = Metadata(
        id=str(uuid.uuid4()),
        type=event_type(InterpreterRequested),
        source="/carebridge/support",
        time=datetime.now(UTC),
    )
    body = b'{"type": "interpreter_requested", "case_id": "not-a-case", "language": "Arabic"}'
    await bus.js.publish(
        bus.subject(SUPPORT_INTERPRETER_REQUESTED.subject()), body, headers=meta.headers()
    )

    async def lettered() -> list[tuple[str, str]] | None:
        found = await dead_letters(db)
        return found or None

    letters = await eventually(lettered, timeout=10)
    assert [consumer for consumer, _ in letters] == [CONSUMER]
    assert "undecodable message" in letters[0][1]
    assert await db.fetchval("SELECT count(*) FROM bookings") == 0
    assert await offers.read() == []
    assert of_type(await events.read(), InterpreterRequestAnswered) == []
