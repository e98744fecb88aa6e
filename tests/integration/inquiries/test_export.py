"""The access and portability export: the patient (with their token) or an admin gets one JSON
document with the case from inquiries, the bookings from logistics, the support cases from
support and the messages notifications sent her (each asked for over NATS, every service
running), the disclosure logs and the staff reads; without any one service's answer, a 503 and
nothing recorded."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.aio.msg import Msg

from contracts.registry import (
    CASE_EXPORT,
    NOTIFICATIONS_CASE_EXPORT,
    SUPPORT_CASE_EXPORT,
    RequestChannel,
)
from services.inquiries.app import InquiriesSettings, create_app
from services.logistics import app as logistics_app
from services.runtime.access import staff
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.messaging.bus import Bus
from services.runtime.privacy.crypto import KeyRing
from services.runtime.privacy.disclosures import LEGAL_BASES
from tests.inquiry_samples import SUBMISSION, erased_left_in
from tests.integration.inquiries.casefile import (
    CONFIRMATION,
    as_site,
    move,
    patient,
    settled,
    step,
    submit,
    to_accepted,
)
from tests.integration.notifications.conftest import Start
from tests.integration.support.conftest import StartSupport
from tests.logistics_samples import partner
from tests.support import eventually

Client = AsyncTestClient[Litestar]
NAME = SUBMISSION["patient"]["full_name"]
ROUTE = "/v1/inquiries/{inquiry_id}/export"


StartLogistics = Callable[[], AbstractAsyncContextManager[Client]]


@pytest.fixture
def start_logistics(settings: ServiceSettings) -> StartLogistics:
    env = as_environ(settings)
    env |= {"LOGISTICS_ENCRYPTION_KEYS": KeyRing.generate_setting("t1"), "OFFER_TIMEOUT": "60"}

    def started() -> AbstractAsyncContextManager[Client]:
        app = logistics_app.create_app(load_settings(logistics_app.LogisticsSettings, environ=env))
        return AsyncTestClient(app, raise_server_exceptions=False)

    return started


@pytest.fixture
async def logistics(start_logistics: StartLogistics) -> AsyncIterator[Client]:
    async with start_logistics() as running:
        yield running


async def bearer(db: asyncpg.Connection, role: staff.Role) -> dict[str, str]:
    _, token = await staff.create_token(db, person=f"Ada {role}", roles=(role,))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def admin(casedb: asyncpg.Connection) -> dict[str, str]:
    return await bearer(casedb, "admin")


def export_url(inquiry_id: str) -> str:
    return f"/v1/inquiries/{inquiry_id}/export"


async def exports_logged(db: asyncpg.Connection) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM inquiries.disclosure_log WHERE kind = 'access_export'"
    )
    return count


async def audited(db: asyncpg.Connection) -> list[tuple[str, str, str, int]]:
    """The audit log's entries for exports."""
    rows = await db.fetch(
        "SELECT person, method, route, status FROM inquiries.audit_log"
        " WHERE route LIKE '%/export' ORDER BY id"
    )
    return [(r["person"], r["method"], r["route"], r["status"]) for r in rows]


async def booked(
    client: Client,
    logistics: Client,
    coordinator: dict[str, str],
    casedb: asyncpg.Connection,
    submitted: dict[str, Any],
) -> str:
    """A confirmed case whose transfer and interpreter logistics offered to partners."""
    for partner_id, kind in (("rhein-shuttle", "transfer"), ("dolmetscher-uk", "interpreter")):
        registered = await logistics.post(
            "/v1/partners", json=partner(partner_id, kind), headers=coordinator
        )
        assert registered.status_code == 201, registered.text
    inquiry_id = await to_accepted(client, coordinator, submitted)
    await step(client, coordinator, inquiry_id, "confirmation", CONFIRMATION)

    async def offered() -> bool:
        count = await casedb.fetchval(
            "SELECT count(*) FROM logistics.disclosure_log WHERE inquiry_id = $1", inquiry_id
        )
        return bool(count == 2)

    await eventually(offered)
    return inquiry_id


async def test_the_patient_exports_the_whole_case_from_every_service(
    client: Client,
    logistics: Client,
    support: Client,
    notifications: Client,
    coordinator: dict[str, str],
    casedb: asyncpg.Connection,
    submitted: dict[str, Any],
) -> None:
    inquiry_id = await booked(client, logistics, coordinator, casedb, submitted)

    response = await client.get(export_url(inquiry_id), headers=patient(submitted))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    document = response.json()
    assert document["recipient"] == {"type": "data_subject", "name": "patient"}
    case = document["inquiries"]["case"]
    assert case["patient"]["full_name"] == NAME
    assert case["description"] == SUBMISSION["description"]
    assert case["confirmation"]["payment"]["payer"]["name"] == "Taras Kovalenko"
    bookings = document["logistics"]["bookings"]
    assert sorted(b["kind"] for b in bookings) == ["interpreter", "transfer"]
    assert {b["details"]["patient"]["full_name"] for b in bookings} == {NAME}
    assert all([e["entry"] for e in b["timeline"]] == ["created", "offered"] for b in bookings)

    offers = document["logistics"]["disclosures"]
    assert sorted((d["kind"], d["recipient"]) for d in offers) == [
        ("partner_offer", "dolmetscher-uk"),
        ("partner_offer", "rhein-shuttle"),
    ]
    assert all("details.patient.full_name" in d["fields"] for d in offers)
    # Each offer names the patient's grant of partner_sharing it was made on.
    assert {(d["consent"]["purpose"], d["consent"]["notice_version"]) for d in offers} == {
        ("partner_sharing", SUBMISSION["consent"]["version"])
    }
    request, exported = document["inquiries"]["disclosures"]
    assert (request["kind"], request["recipient_type"], request["recipient"]) == (
        "booking_request",
        "service",
        "logistics",
    )
    assert "bookings[].patient.full_name" in request["fields"]
    # Sent on the patient's grant of partner_sharing at submission: the record names it.
    assert request["consent"]["purpose"] == "partner_sharing"
    assert request["consent"]["notice_version"] == SUBMISSION["consent"]["version"]
    assert request["legal_basis"].startswith(
        f"{LEGAL_BASES['booking_request']} to partner_sharing, given "
    )
    assert request["legal_basis"].endswith(
        f"against consent notice {SUBMISSION['consent']['version']}"
    )
    assert (exported["kind"], exported["recipient_type"]) == ("access_export", "data_subject")
    assert exported["legal_basis"] == LEGAL_BASES["access_export"]
    assert {
        "inquiries.case.patient.full_name",
        "inquiries.case.diagnoses[]",
        "logistics.bookings[].details.patient.phone",
    } <= set(exported["fields"])
    assert exported["reference"] == response.headers["x-request-id"]
    assert await audited(casedb) == []  # the patient is no member of staff


async def test_an_admin_exports_a_case_and_is_recorded_as_its_recipient(
    client: Client,
    logistics: Client,
    support: Client,
    notifications: Client,
    casedb: asyncpg.Connection,
    admin: dict[str, str],
    submitted: dict[str, Any],
) -> None:
    response = await client.get(export_url(submitted["id"]), headers=admin)

    assert response.status_code == 200, response.text
    document = response.json()
    assert document["inquiries"]["case"]["patient"]["email"] == SUBMISSION["patient"]["email"]
    assert document["logistics"] == {"bookings": [], "disclosures": [], "staff_reads": []}
    assert document["support"] == {"cases": [], "staff_reads": []}
    [exported] = document["inquiries"]["disclosures"]
    assert document["recipient"] == {"type": "staff", "name": "Ada admin"}
    assert (exported["recipient_type"], exported["recipient"]) == ("staff", "Ada admin")
    # A read, yet in the audit log: staff reading a person's whole record is what it is for.
    assert await audited(casedb) == [("Ada admin", "GET", ROUTE, 200)]


async def test_who_may_not_export_gets_nothing_and_nothing_is_recorded(
    client: Client,
    logistics: Client,
    casedb: asyncpg.Connection,
    admin: dict[str, str],
    submitted: dict[str, Any],
) -> None:
    other = await submit(client)
    url = export_url(submitted["id"])
    refusals = {
        "no token": (await client.get(url)).status_code,
        "another patient's token": (await client.get(url, headers=patient(other))).status_code,
        "a forged token": (
            await client.get(url, headers={"Authorization": "Bearer cbp_forged"})
        ).status_code,
        "a forged staff token": (
            await client.get(url, headers={"Authorization": "Bearer cbs_forged"})
        ).status_code,
        "a coordinator": (
            await client.get(url, headers=await bearer(casedb, "coordinator"))
        ).status_code,
        "an admin, unknown case": (
            await client.get(export_url(str(uuid.uuid4())), headers=admin)
        ).status_code,
    }

    assert refusals == {
        "no token": 401,
        "another patient's token": 404,
        "a forged token": 404,
        "a forged staff token": 401,
        "a coordinator": 403,
        "an admin, unknown case": 404,
    }
    assert await exports_logged(casedb) == 0
    assert await audited(casedb) == [
        ("Ada coordinator", "GET", ROUTE, 403),
        ("Ada admin", "GET", ROUTE, 404),
    ]


async def test_without_logistics_the_export_is_a_503_and_nothing_is_recorded(
    client: Client, casedb: asyncpg.Connection, submitted: dict[str, Any]
) -> None:
    response = await client.get(export_url(submitted["id"]), headers=patient(submitted))

    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"]
    assert response.json()["detail"].startswith("logistics is not running")
    assert NAME not in response.text
    assert await exports_logged(casedb) == 0


@pytest.mark.parametrize(
    "silent",
    [CASE_EXPORT, SUPPORT_CASE_EXPORT, NOTIFICATIONS_CASE_EXPORT],
    ids=lambda channel: channel.responder,
)
async def test_a_service_that_does_not_answer_in_time_is_a_503_and_nothing_is_recorded(
    silent: RequestChannel,
    inquiries_settings: InquiriesSettings,
    site_key: str,
    bus: Bus,
    casedb: asyncpg.Connection,
    start_logistics: StartLogistics,
    start_support: StartSupport,
    start: Start,
) -> None:
    async def stuck(msg: Msg) -> None:
        del msg  # takes the request, never answers: as a service stuck on its database

    subscription = await bus.nc.subscribe(bus.subject(silent.address), cb=stuck)
    await bus.nc.flush()
    impatient = msgspec.structs.replace(inquiries_settings, logistics_export_timeout=0.5)
    others = {"logistics": start_logistics, "support": start_support, "notifications": start}
    try:
        async with AsyncExitStack() as running:
            # The other two answer: the export waits for all three, at once.
            for name, started in others.items():
                if name != silent.responder:
                    await running.enter_async_context(started())
            inquiries = await running.enter_async_context(
                AsyncTestClient(create_app(impatient), raise_server_exceptions=False)
            )
            client = as_site(inquiries, site_key)
            submitted = await submit(client)
            response = await client.get(export_url(submitted["id"]), headers=patient(submitted))
    finally:
        await subscription.unsubscribe()

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert response.json()["detail"] == (
        f"{silent.responder} did not answer within 0.5 s; nothing was exported, try again"
    )
    assert NAME not in response.text
    assert await exports_logged(casedb) == 0


async def test_after_erasure_the_export_holds_no_personal_data(
    client: Client,
    logistics: Client,
    support: Client,
    notifications: Client,
    coordinator: dict[str, str],
    casedb: asyncpg.Connection,
    admin: dict[str, str],
    submitted: dict[str, Any],
) -> None:
    case_id = await supported(client, support, submitted, casedb)
    inquiry_id = await booked(client, logistics, coordinator, casedb, submitted)
    await move(client, coordinator, inquiry_id, "cancelled")
    erased = await client.post(f"/v1/inquiries/{inquiry_id}/erasure", headers=admin)
    assert erased.status_code == 200, erased.text

    async def wiped_everywhere() -> bool:
        left = await casedb.fetchval(
            "SELECT count(*) FROM logistics.bookings WHERE inquiry_id = $1 AND erased_at IS NULL",
            inquiry_id,
        )
        threads = await casedb.fetchval(
            "SELECT count(*) FROM support.cases WHERE inquiry_id = $1 AND erased_at IS NULL",
            uuid.UUID(inquiry_id),
        )
        return bool(left == 0 and threads == 0)

    await eventually(wiped_everywhere)
    assert (await client.get(export_url(inquiry_id), headers=patient(submitted))).status_code == 404

    response = await client.get(export_url(inquiry_id), headers=admin)

    assert response.status_code == 200, response.text
    assert erased_left_in(response.text) == []
    document = json.loads(response.text)
    assert document["inquiries"]["case"]["patient"] is None
    assert len(document["logistics"]["bookings"]) == 2
    # Where the data went stays on record: the log names fields, never their values.
    kinds = [d["kind"] for d in document["inquiries"]["disclosures"]]
    assert kinds == ["booking_request", "access_export"]
    assert len(document["logistics"]["disclosures"]) == 2
    # Support keeps the case's ids, kinds and times, and who read it; its thread is gone.
    assert THREAD not in response.text
    [case] = document["support"]["cases"]
    assert (case["case_id"], case["thread"]) == (case_id, [])
    assert case["erased_at"]
    assert case["timeline"][-1]["kind"] == "erased"
    assert [r["person"] for r in document["support"]["staff_reads"]] == ["Ada support_agent"]
    # Notifications keeps that it wrote to her, and when: nothing of what it said.
    sent = document["notifications"]["notifications"]
    assert "inquiry_received" in [n["kind"] for n in sent]
    assert all(n["params"] == {} and n["details"] is None for n in sent)


async def published_with_headers(bus: Bus) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    """Every inquiries event on the stream: (subject without namespace, headers, body)."""
    stream = bus.stream("INQUIRIES")
    info = await bus.js.stream_info(stream)
    events = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await bus.js.get_msg(stream, seq)
        events.append(
            (bus.unprefix(msg.subject), dict(msg.headers or {}), json.loads(msg.data or b"{}"))
        )
    return events


def wire_fields(value: Any, prefix: str = "") -> set[str]:
    """Every path of the JSON that holds a value; the items of a list share one path."""
    if isinstance(value, dict):
        return {
            path
            for key, inner in value.items()
            for path in wire_fields(inner, f"{prefix}.{key}" if prefix else key)
        }
    if isinstance(value, list):
        return {path for item in value for path in wire_fields(item, f"{prefix}[]")}
    return set() if value is None else {prefix}


async def test_booking_requests_to_logistics_are_logged_with_the_fields_they_carried(
    client: Client,
    coordinator: dict[str, str],
    casedb: asyncpg.Connection,
    bus: Bus,
    submitted: dict[str, Any],
) -> None:
    inquiry_id = await to_accepted(client, coordinator, submitted)
    await step(client, coordinator, inquiry_id, "confirmation", CONFIRMATION)
    other = await to_accepted(client, coordinator, await submit(client))
    nothing_to_book = CONFIRMATION | {"plan": CONFIRMATION["plan"] | {"services": {}}}
    await step(client, coordinator, other, "confirmation", nothing_to_book)
    await settled(casedb, bus)

    [(event_id, event)] = [
        (headers["ce-id"], body)
        for subject, headers, body in await published_with_headers(bus)
        if subject == "inquiries.inquiry.confirmed.v1" and body["inquiry_id"] == inquiry_id
    ]
    rows = await casedb.fetch("SELECT * FROM disclosure_log ORDER BY id")
    # The case confirmed without services to book sent nothing personal: nothing logged.
    assert [(r["inquiry_id"], r["reference"]) for r in rows] == [(inquiry_id, event_id)]
    assert set(rows[0]["fields"]) == wire_fields(event)
    assert {"bookings[].patient.full_name", "bookings[].flight_number"} <= set(rows[0]["fields"])


async def test_the_patients_export_lists_who_of_staff_read_their_data_and_when(
    client: Client,
    logistics: Client,
    support: Client,
    notifications: Client,
    coordinator: dict[str, str],
    casedb: asyncpg.Connection,
    submitted: dict[str, Any],
) -> None:
    inquiry_id = await booked(client, logistics, coordinator, casedb, submitted)
    reader = await bearer(casedb, "coordinator")
    assert (await client.get(f"/v1/coordinator/inquiries/{inquiry_id}", headers=reader)).is_success
    listed = await logistics.get(f"/v1/bookings?inquiry_id={inquiry_id}", headers=reader)
    assert listed.is_success
    booking_id = listed.json()["items"][0]["id"]
    assert (await logistics.get(f"/v1/bookings/{booking_id}", headers=reader)).is_success
    # A read of another case is not this patient's business.
    other = await submit(client)
    assert (await client.get(f"/v1/coordinator/inquiries/{other['id']}", headers=reader)).is_success
    # Nor is an agent's read of another patient's support case.
    await supported(client, support, other, casedb)

    response = await client.get(export_url(inquiry_id), headers=patient(submitted))

    assert response.status_code == 200, response.text
    document = response.json()
    inquiries_reads = document["inquiries"]["staff_reads"]
    assert {(r["person"], r["route"]) for r in inquiries_reads} == {
        ("Carla Coordinator", "/v1/coordinator/inquiries/{inquiry_id}"),
        ("Ada coordinator", "/v1/coordinator/inquiries/{inquiry_id}"),
    }
    assert all(r["read_at"] for r in inquiries_reads)
    assert [(r["person"], r["route"]) for r in document["logistics"]["staff_reads"]] == [
        ("Ada coordinator", "/v1/bookings"),
        ("Ada coordinator", "/v1/bookings/{booking_id}"),
    ]
    assert document["support"] == {"cases": [], "staff_reads": []}


THREAD = "Ich brauche einen Rollstuhl am Flughafen"


async def on_call(support: Client, casedb: asyncpg.Connection) -> None:
    """An agent who speaks German is on call, so her case needs no interpreter from logistics."""
    coordinator = await bearer(casedb, "coordinator")
    agent = await support.put(
        "/v1/support/agents/Ada support_agent",
        json={"email": "ada@carebridge.example", "languages": ["de", "en"]},
        headers=coordinator,
    )
    assert agent.status_code == 200, agent.text
    now = datetime.now(UTC)
    period = {
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=8)).isoformat(),
    }
    shift = period | {"person": "Ada support_agent", "position": 0}
    rota = await support.put(
        "/v1/support/rota", json=period | {"shifts": [shift]}, headers=coordinator
    )
    assert rota.status_code == 200, rota.text


async def supported(
    client: Client, support: Client, submitted: dict[str, Any], casedb: asyncpg.Connection
) -> str:
    """The patient opened a support case with her token, and an agent read its thread; the
    notifications service has mailed her that her inquiry arrived. The case's id."""
    await on_call(support, casedb)
    opened = await support.post(
        "/v1/support/cases",
        json={
            "inquiry_id": submitted["id"],
            "category": "transfer",
            "language": "de",
            "message": THREAD,
        },
        headers=patient(submitted),
    )
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["id"]
    agent = await bearer(casedb, "support_agent")
    read = await support.get(f"/v1/support/desk/cases/{case_id}", headers=agent)
    assert read.status_code == 200, read.text

    async def mailed() -> bool:
        sent = await casedb.fetchval(
            "SELECT count(*) FROM notifications.notifications"
            " WHERE inquiry_id = $1 AND status = 'sent'",
            uuid.UUID(submitted["id"]),
        )
        return bool(sent)

    await eventually(mailed)
    return case_id


async def test_the_export_holds_her_support_case_with_its_thread_and_reader_and_what_was_sent(
    client: Client,
    logistics: Client,
    support: Client,
    notifications: Client,
    casedb: asyncpg.Connection,
    submitted: dict[str, Any],
) -> None:
    case_id = await supported(client, support, submitted, casedb)

    response = await client.get(export_url(submitted["id"]), headers=patient(submitted))

    assert response.status_code == 200, response.text
    document = response.json()
    [case] = document["support"]["cases"]
    assert (case["case_id"], case["category"], case["origin"]) == (case_id, "transfer", "patient")
    assert case["erased_at"] is None
    assert (case["thread"][0]["author"], case["thread"][0]["body"]) == ("patient", THREAD)
    assert "opened" in [e["kind"] for e in case["timeline"]]
    # Who of support's staff read her thread, and when (support's audit log).
    [read] = document["support"]["staff_reads"]
    assert (read["person"], read["route"]) == (
        "Ada support_agent",
        "/v1/support/desk/cases/{case_id}",
    )
    assert read["read_at"]
    # What notifications wrote to her: its kind, channel and delivery, not more than it keeps.
    [received] = [
        n for n in document["notifications"]["notifications"] if n["kind"] == "inquiry_received"
    ]
    assert (received["status"], received["channels"]) == ("sent", ["email"])
    assert received["sent_at"]
    # Notifications asks inquiries for her address and language at each send and keeps neither.
    assert "olena@example.org" not in json.dumps(document["notifications"])
    # Her export names what it carried from support and notifications in its disclosure record.
    exported = document["inquiries"]["disclosures"][-1]
    assert exported["kind"] == "access_export"
    assert {
        "support.cases[].thread[].body",
        "notifications.notifications[].kind",
    } <= set(exported["fields"])


async def test_a_strangers_token_cannot_export_her_case_and_her_support_case_is_not_in_theirs(
    client: Client,
    logistics: Client,
    support: Client,
    notifications: Client,
    casedb: asyncpg.Connection,
    submitted: dict[str, Any],
) -> None:
    await supported(client, support, submitted, casedb)
    stranger = await submit(client)

    refused = await client.get(export_url(submitted["id"]), headers=patient(stranger))
    own = await client.get(export_url(stranger["id"]), headers=patient(stranger))

    assert refused.status_code == 404, refused.text
    assert THREAD not in refused.text
    assert own.status_code == 200, own.text
    assert THREAD not in own.text
    assert own.json()["support"] == {"cases": [], "staff_reads": []}
    assert {n["kind"] for n in own.json()["notifications"]["notifications"]} <= {"inquiry_received"}
    # Only the stranger's export of their own case was recorded.
    assert await exports_logged(casedb) == 1
