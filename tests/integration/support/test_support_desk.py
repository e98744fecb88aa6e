"""The support desk through the real services: a patient opens a case with their inquiry token
(checked by inquiries over request/reply), the rota decides who holds it, a missed acknowledge
target escalates it to the next person on call with a timeline entry and an email (through
notifications, over real SMTP); medical cases are answered at once; a partner's request opens a
linked case; an erasure wipes the thread; bad input changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from prometheus_client import generate_latest

from contracts.inquiries import PersonalDataErased
from contracts.logistics import OperatorAlert, PartnerSupportRequested
from contracts.notifications import NotificationFailed
from contracts.registry import (
    INQUIRY_ERASED,
    NOTIFICATION_FAILED,
    OPERATOR_ALERT,
    PARTNER_SUPPORT_REQUESTED,
)
from services.runtime.messaging.bus import Bus
from tests.integration.inquiries.casefile import patient, submit
from tests.integration.logistics.conftest import publish
from tests.integration.notifications.conftest import Client, Mailbox
from tests.support import eventually

Headers = Callable[[str], dict[str, str]]
DANA = "dana@carebridge.example"
IVAN = "ivan@carebridge.example"
LEAD = "lena@carebridge.example"


async def desk(support: Client, headers: Headers, *, urgent_ack: int = 5) -> None:
    """Dana (uk, en) first on call, Ivan (uk) next, Lena the lead off the rota."""
    coordinator = headers("coordinator")
    for person, email, languages, lead in (
        ("Dana Agent", DANA, ["uk", "en"], False),
        ("Ivan Agent", IVAN, ["uk", "ru"], False),
        ("Lena Lead", LEAD, ["de", "en"], True),
    ):
        answer = await support.put(
            f"/v1/support/agents/{person}",
            json={"email": email, "languages": languages, "time_zone": "Europe/Kyiv", "lead": lead},
            headers=coordinator,
        )
        assert answer.status_code == 200, answer.text
    now = datetime.now(UTC)
    period = {
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
    }
    shifts = [
        {
            "person": "Dana Agent",
            "starts_at": period["starts_at"],
            "ends_at": (now + timedelta(hours=8)).isoformat(),
            "position": 0,
        },
        {
            "person": "Ivan Agent",
            "starts_at": period["starts_at"],
            "ends_at": (now + timedelta(hours=8)).isoformat(),
            "position": 1,
        },
    ]
    answer = await support.put(
        "/v1/support/rota", json=period | {"shifts": shifts}, headers=coordinator
    )
    assert answer.status_code == 200, answer.text
    answer = await support.put(
        "/v1/support/policies/urgent",
        json={"acknowledge_within_seconds": urgent_ack, "resolve_within_seconds": 3600},
        headers=coordinator,
    )
    assert answer.status_code == 200, answer.text


async def open_case(support: Client, submitted: dict[str, Any], **body: Any) -> dict[str, Any]:
    answer = await support.post(
        "/v1/support/cases",
        json={"inquiry_id": submitted["id"]} | body,
        headers=patient(submitted),
    )
    assert answer.status_code == 201, answer.text
    opened: dict[str, Any] = answer.json()
    return opened


async def view(support: Client, submitted: dict[str, Any], case_id: str) -> dict[str, Any]:
    answer = await support.get(f"/v1/support/cases/{case_id}", headers=patient(submitted))
    assert answer.status_code == 200, answer.text
    shown: dict[str, Any] = answer.json()
    return shown


async def test_an_unacknowledged_urgent_case_escalates_to_the_next_on_call_who_is_mailed(
    inquiries: Client,
    support: Client,
    notifications: Client,
    mailbox: Mailbox,
    staff_headers: Headers,
) -> None:
    await desk(support, staff_headers, urgent_ack=5)
    on_call = await support.get("/v1/support/on-call", headers=staff_headers("support_agent"))
    assert [o["agent"]["person"] for o in on_call.json()] == ["Dana Agent", "Ivan Agent"]
    submitted = await submit(inquiries)
    opened = await open_case(
        support,
        submitted,
        category="transfer",
        priority="urgent",
        language="uk",
        message="Водія немає в зоні прильоту",
    )
    assert opened["status"] == "open"
    assert opened["assignee"] == "Dana Agent"
    deadline = datetime.fromisoformat(opened["escalate_at"])

    async def escalated() -> dict[str, Any] | None:
        shown = await view(support, submitted, opened["id"])
        return shown if any(e["kind"] == "escalated" for e in shown["timeline"]) else None

    shown = await eventually(escalated, timeout=15)
    [entry] = [e for e in shown["timeline"] if e["kind"] == "escalated"]
    assert entry["person"] == "Ivan Agent"
    assert entry["detail"] == "agent"
    # Within seconds of its deadline, not before it.
    at = datetime.fromisoformat(entry["at"])
    assert deadline <= at < deadline + timedelta(seconds=3)
    assert shown["assignee"] == "Ivan Agent"
    assert [m["body"] for m in shown["messages"]] == ["Водія немає в зоні прильоту"]
    [mail] = await eventually(lambda: _mails(mailbox, IVAN), timeout=15)
    assert opened["id"] in mail["Subject"]
    assert "Водія" not in mail.get_body(("plain",)).get_content()  # the thread never leaves
    assert mailbox.to(DANA) == []
    # Acknowledged: the escalation stops there.
    ack = await support.post(
        f"/v1/support/desk/cases/{opened['id']}/acknowledge", headers=staff_headers("support_agent")
    )
    assert ack.status_code == 200, ack.text
    assert ack.json()["status"] == "acknowledged"
    stats = await support.get("/v1/support/stats", headers=staff_headers("support_agent"))
    urgent = next(s for s in stats.json() if s["priority"] == "urgent")
    assert urgent["acknowledge_breaches"] == 1
    assert urgent["acknowledged"] == 1
    assert urgent["acknowledge_p50_seconds"] >= 5
    # The same figures on /metrics, read from the cases by the figures loop.

    async def on_metrics() -> bool:
        page = generate_latest(support.app.state.metrics.registry).decode()
        return 'support_breaches{priority="urgent",target="acknowledge"} 1.0' in page

    await eventually(on_metrics, timeout=5)


async def _mails(mailbox: Mailbox, address: str) -> list[Any]:
    return mailbox.to(address)


async def test_a_medical_case_is_urgent_and_answered_at_once_with_emergency_instructions(
    inquiries: Client, support: Client, staff_headers: Headers
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    submitted = await submit(inquiries)
    for language, words in (
        ("uk", "112"),
        ("de", "Notfall"),
        ("ru", "экстренная"),
        ("en", "emergency"),
    ):
        opened = await open_case(
            support,
            submitted,
            category="medical",
            priority="normal",
            language=language,
            message="pain",
        )
        assert opened["priority"] == "urgent"
        shown = await view(support, submitted, opened["id"])
        system = [m for m in shown["messages"] if m["author"] == "system"]
        assert len(system) == 1
        assert words in system[0]["body"]
        assert "112" in system[0]["body"]
        assert "+49 69 1234 5678" in system[0]["body"]
        assert "auto_answered" in [e["kind"] for e in shown["timeline"]]


async def test_nobody_on_call_speaking_the_language_asks_for_an_interpreter(
    inquiries: Client, support: Client, staff_headers: Headers
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    submitted = await submit(inquiries)
    opened = await open_case(
        support, submitted, category="other", priority="normal", language="ar", message="help"
    )
    shown = await view(support, submitted, opened["id"])
    kinds = [e["kind"] for e in shown["timeline"]]
    assert "interpreter_requested" in kinds


async def test_a_partner_support_request_opens_a_case_linked_to_its_booking(
    support: Client, staff_headers: Headers, bus: Bus, sdb: asyncpg.Connection
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    booking_id, inquiry_id = str(uuid.uuid4()), str(uuid.uuid4())
    await publish(
        bus,
        PARTNER_SUPPORT_REQUESTED.address,
        PartnerSupportRequested(
            booking_id=booking_id,
            inquiry_id=inquiry_id,
            booking_kind="transfer",
            partner_id="rhein-shuttle",
            topic="patient_not_at_meeting_point",
            message="Patient not at exit A",
            requested_at=datetime.now(UTC),
        ),
        source="logistics",
    )
    row = await eventually(
        lambda: sdb.fetchrow(
            "SELECT id, origin, partner_id, category, priority FROM cases WHERE booking_id = $1",
            uuid.UUID(booking_id),
        ),
        timeout=10,
    )
    assert (row["origin"], row["partner_id"], row["category"], row["priority"]) == (
        "partner",
        "rhein-shuttle",
        "transfer",
        "urgent",
    )
    shown = await support.get(
        f"/v1/support/desk/cases/{row['id']}", headers=staff_headers("support_agent")
    )
    assert shown.status_code == 200, shown.text
    assert (
        shown.json()["messages"][0]["body"]
        == "[patient_not_at_meeting_point] Patient not at exit A"
    )
    assert shown.json()["messages"][0]["author_name"] == "rhein-shuttle"


async def test_an_erasure_wipes_the_thread(
    inquiries: Client, support: Client, staff_headers: Headers, bus: Bus, sdb: asyncpg.Connection
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    submitted = await submit(inquiries)
    opened = await open_case(
        support,
        submitted,
        category="billing",
        priority="normal",
        language="en",
        message="My card number is 4111",
    )
    sealed = await sdb.fetchval(
        "SELECT sealed_body FROM case_messages WHERE case_id = $1", uuid.UUID(opened["id"])
    )
    assert b"4111" not in sealed  # sealed at rest
    await publish(
        bus,
        INQUIRY_ERASED.address,
        PersonalDataErased(inquiry_id=submitted["id"], erased_at=datetime.now(UTC)),
        source="inquiries",
    )

    async def wiped() -> bool:
        count = await sdb.fetchval(
            "SELECT count(*) FROM case_messages WHERE case_id = $1", uuid.UUID(opened["id"])
        )
        return count == 0

    await eventually(wiped, timeout=10)
    shown = await support.get(
        f"/v1/support/desk/cases/{opened['id']}", headers=staff_headers("support_agent")
    )
    assert shown.json()["messages"] == []
    assert "erased" in [e["kind"] for e in shown.json()["timeline"]]


async def test_bad_input_is_refused_and_changes_nothing(
    inquiries: Client, support: Client, staff_headers: Headers, sdb: asyncpg.Connection
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    submitted = await submit(inquiries)
    before = await sdb.fetchval("SELECT count(*) FROM cases")
    good = {
        "inquiry_id": submitted["id"],
        "category": "transfer",
        "priority": "urgent",
        "language": "uk",
        "message": "x",
    }
    for body, status in (
        (good | {"category": "spa"}, 400),
        (good | {"language": "Ukrainian"}, 400),
        (good | {"message": ""}, 400),
        (good | {"surprise": 1}, 400),
        (good | {"inquiry_id": str(uuid.uuid4())}, 404),
    ):
        answer = await support.post("/v1/support/cases", json=body, headers=patient(submitted))
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    wrong = await support.post(
        "/v1/support/cases", json=good, headers={"Authorization": "Bearer cbp_nope"}
    )
    assert wrong.status_code == 404
    missing = await support.post("/v1/support/cases", json=good)
    assert missing.status_code == 401
    assert await sdb.fetchval("SELECT count(*) FROM cases") == before
    # Another patient's token does not open the case.
    opened = await open_case(support, submitted, category="other", language="en", message="hi")
    other = await submit(inquiries)
    peek = await support.get(f"/v1/support/cases/{opened['id']}", headers=patient(other))
    assert peek.status_code == 404
    # A rota naming nobody known, or a shift outside its period: 400, the rota unchanged.
    now = datetime.now(UTC)
    rota = {
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
        "shifts": [
            {
                "person": "Nobody",
                "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
            }
        ],
    }
    shifts = await sdb.fetchval("SELECT count(*) FROM shifts")
    answer = await support.put("/v1/support/rota", json=rota, headers=staff_headers("coordinator"))
    assert answer.status_code == 400, answer.text
    assert await sdb.fetchval("SELECT count(*) FROM shifts") == shifts
    policy = await support.put(
        "/v1/support/policies/urgent",
        json={"acknowledge_within_seconds": 0, "resolve_within_seconds": 1},
        headers=staff_headers("coordinator"),
    )
    assert policy.status_code == 400
    unknown = await support.put(
        "/v1/support/policies/whenever",
        json={"acknowledge_within_seconds": 5, "resolve_within_seconds": 10},
        headers=staff_headers("coordinator"),
    )
    assert unknown.status_code == 404
    refused = await support.put("/v1/support/rota", json=rota, headers=staff_headers("editor"))
    assert refused.status_code == 403


async def test_a_coordinator_opens_a_case_for_a_patient_on_the_phone(
    support: Client, staff_headers: Headers, sdb: asyncpg.Connection
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    booking_id = str(uuid.uuid4())
    body = {
        "booking_id": booking_id,
        "category": "medicine",
        "priority": "urgent",
        "language": "ru",
        "message": "Called: the insulin did not arrive",
    }
    refused = await support.post("/v1/support/cases", json=body, headers=staff_headers("editor"))
    assert refused.status_code == 403
    answer = await support.post(
        "/v1/support/cases", json=body, headers=staff_headers("coordinator")
    )
    assert answer.status_code == 201, answer.text
    opened = answer.json()
    assert (opened["origin"], opened["booking_id"], opened["assignee"]) == (
        "coordinator",
        booking_id,
        "Ivan Agent",  # the one on call who speaks Russian goes first
    )
    shown = await support.get(
        f"/v1/support/desk/cases/{opened['id']}", headers=staff_headers("support_agent")
    )
    [message] = shown.json()["messages"]
    assert (message["author"], message["author_name"]) == ("agent", "Chris Coordinator")
    assert await sdb.fetchval("SELECT count(*) FROM cases WHERE origin = 'coordinator'") == 1


async def test_an_agent_reading_a_thread_is_audited_with_its_case(
    support: Client, staff_headers: Headers, sdb: asyncpg.Connection
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    inquiry_id = str(uuid.uuid4())
    body = {
        "inquiry_id": inquiry_id,
        "category": "transfer",
        "priority": "normal",
        "language": "en",
        "message": "Called: my flight moved to Tuesday",
    }
    opened = await support.post(
        "/v1/support/cases", json=body, headers=staff_headers("coordinator")
    )
    assert opened.status_code == 201, opened.text
    path = f"/v1/support/desk/cases/{opened.json()['id']}"
    assert (await support.get(path, headers=staff_headers("support_agent"))).status_code == 200
    assert (await support.get(path, headers=staff_headers("editor"))).status_code == 403
    # The case list shows no thread, so reading it is not an audited read.
    listed = await support.get("/v1/support/desk/cases", headers=staff_headers("support_agent"))
    assert listed.status_code == 200
    reads = await sdb.fetch(
        "SELECT person, status, cases FROM audit_log WHERE method = 'GET' ORDER BY id"
    )
    assert [(r["person"], r["status"], list(r["cases"])) for r in reads] == [
        ("Dana Agent", 200, [inquiry_id]),
        ("Eddie Editor", 403, []),
    ]


async def test_the_system_opens_cases_for_an_unassigned_booking_and_an_unreachable_patient(
    support: Client, staff_headers: Headers, bus: Bus, sdb: asyncpg.Connection
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    booking_id, inquiry_id = str(uuid.uuid4()), str(uuid.uuid4())
    await publish(
        bus,
        OPERATOR_ALERT.address,
        OperatorAlert(
            alert="booking_unassigned",
            booking_id=booking_id,
            inquiry_id=inquiry_id,
            detail="no active transfer partner left",
            raised_at=datetime.now(UTC),
        ),
        source="logistics",
    )
    await publish(
        bus,
        NOTIFICATION_FAILED.address,
        NotificationFailed(
            notification_id=str(uuid.uuid4()),
            kind="offer_sent",
            audience="patient",
            channel="email",
            inquiry_id=inquiry_id,
            attempts=12,
            reason="smtp 550 mailbox unavailable",
            failed_at=datetime.now(UTC),
        ),
        source="notifications",
    )

    async def opened() -> list[Any]:
        rows = await sdb.fetch(
            "SELECT origin, priority, booking_id FROM cases WHERE inquiry_id = $1 "
            "ORDER BY priority DESC",
            uuid.UUID(inquiry_id),
        )
        return rows if len(rows) == 2 else []

    urgent, normal = await eventually(opened, timeout=10)
    assert (urgent["origin"], urgent["priority"], str(urgent["booking_id"])) == (
        "system",
        "urgent",
        booking_id,
    )
    assert (normal["origin"], normal["priority"]) == ("system", "normal")


async def test_a_case_past_its_resolve_target_counts_as_a_breach_open_or_resolved(
    inquiries: Client, support: Client, staff_headers: Headers
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    agent = staff_headers("support_agent")
    policy = await support.put(
        "/v1/support/policies/normal",
        json={"acknowledge_within_seconds": 600, "resolve_within_seconds": 1},
        headers=staff_headers("coordinator"),
    )
    assert policy.status_code == 200, policy.text
    submitted = await submit(inquiries)
    opened = await open_case(
        support, submitted, category="billing", priority="normal", language="en", message="x"
    )

    async def normal() -> dict[str, Any]:
        stats = await support.get("/v1/support/stats", headers=agent)
        found: dict[str, Any] = next(s for s in stats.json() if s["priority"] == "normal")
        return found

    assert (await normal())["resolve_breaches"] == 0
    await eventually(lambda: _breached(normal), timeout=5)
    resolved = await support.post(f"/v1/support/desk/cases/{opened['id']}/resolve", headers=agent)
    assert resolved.status_code == 200, resolved.text
    again = await support.post(f"/v1/support/desk/cases/{opened['id']}/resolve", headers=agent)
    assert again.status_code == 409
    figures = await normal()
    assert (figures["resolved"], figures["resolve_breaches"]) == (1, 1)
    assert figures["resolve_p50_seconds"] >= 1


async def _breached(normal: Any) -> bool:
    return bool((await normal())["resolve_breaches"] == 1)


async def test_a_retried_opening_with_its_idempotency_key_answers_the_first_case(
    inquiries: Client, support: Client, staff_headers: Headers, sdb: asyncpg.Connection
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    submitted = await submit(inquiries)
    body = {
        "inquiry_id": submitted["id"],
        "category": "transfer",
        "priority": "urgent",
        "language": "uk",
        "message": "x",
    }
    retry = patient(submitted) | {"Idempotency-Key": "open-1"}
    first, again = await asyncio.gather(
        support.post("/v1/support/cases", json=body, headers=retry),
        support.post("/v1/support/cases", json=body, headers=retry),
    )
    assert (first.status_code, again.status_code) == (201, 201), (first.text, again.text)
    assert first.json()["id"] == again.json()["id"]
    other = await support.post(
        "/v1/support/cases", json=body, headers=patient(submitted) | {"Idempotency-Key": "open-2"}
    )
    assert other.json()["id"] != first.json()["id"]
    count = await sdb.fetchval(
        "SELECT count(*) FROM cases WHERE inquiry_id = $1", uuid.UUID(submitted["id"])
    )
    assert count == 2
    # Nothing of the rolled-back opening is left: one thread message per case.
    assert await sdb.fetchval("SELECT count(*) FROM case_messages") == count
