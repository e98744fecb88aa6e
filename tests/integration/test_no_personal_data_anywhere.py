"""No personal data where it does not belong (issue 7, GDPR Art. 9).

A patient whose name no other test uses goes through the whole flow with the real inquiries and
logistics services and a reference partner for each kind of booking: submission, offer,
confirmation, the partners' bookings, discharge, completion. A partner's reply that cannot be
applied and a booking request that cannot be read end as dead letters. Then the patient's name,
contact and health data are searched for in what both services logged (debug, JSON), their
metrics pages, their dead letters and every message of every stream. They are found only in the
offers to partners whose job needs them (each offer holding no field beyond its kind's list) and
in the booking requests logistics needs; once the patient is erased, nowhere. NATS runs the
accounts config `make run` renders: each service on its own user (erasure's deletes are grants of
theirs), each partner in an account of its own, bound to the durable consumer the admin made."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contracts.envelope import CE_TYPE, Event, Metadata, event_type
from contracts.inquiries import InquiryConfirmed
from contracts.partners import Offer, StatusUpdate
from contracts.registry import INQUIRY_CONFIRMED, PARTNER_REPLIES, STREAMS
from deploy.nats_auth import ADMIN, ensure_partner_consumers, partner_inbox_prefix
from services.inquiries.app import InquiriesSettings
from services.inquiries.app import create_app as inquiries_app
from services.logistics import need_to_know
from services.logistics.app import LogisticsSettings
from services.logistics.app import create_app as logistics_app
from services.partner.app import PartnerSettings
from services.partner.consumers import ReferencePartner
from services.runtime.access import api_keys, staff
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.messaging.bus import Bus
from services.runtime.privacy.crypto import KeyRing
from tests.inquiry_samples import DISCHARGE, SUBMISSION
from tests.integration.inquiries.casefile import CONFIRMATION, offer
from tests.logistics_samples import partner
from tests.support import (
    StoredMessage,
    eventually,
    every_message,
    every_value,
    metrics_page,
    own_metrics_port,
)
from tests.support.nats_auth import ACCOUNTS_PARTNERS, Server

Client = AsyncTestClient[Litestar]
CASES = "/v1/coordinator/inquiries"

NAME = ("Zlata", "Hrytsenko")
PHONE = ("380937770142",)
ADDRESS = ("Soborna 42",)
# Never shared with anyone: contact only the operator uses, and health.
EMAIL = ("zlata.hv@example.net",)
HEALTH = ("1958-07-19", "Barlow", "flail posterior", "Poltava", "palpitations")
PAYER = ("Bohdan", "380671112299")
EVERYTHING = (*NAME, *PHONE, *ADDRESS, *EMAIL, *HEALTH, *PAYER)

PATIENT = SUBMISSION | {
    "patient": {
        "full_name": "Zlata Hrytsenko",
        "date_of_birth": "1958-07-19",
        "sex": "female",
        "country": "UA",
        "language": "uk",
        "email": "zlata.hv@example.net",
        "phone": "+380937770142",
    },
    "description": "Breathless since a walk in Poltava, palpitations at night.",
    "diagnoses": ["Barlow disease, flail posterior leaflet"],
}
PAYMENT = CONFIRMATION["payment"] | {
    "payer": {"relation": "relative", "name": "Bohdan Hrytsenko", "phone": "+380671112299"}
}
HOME = DISCHARGE | {
    "home_address": DISCHARGE["home_address"]
    | {"recipient": "Zlata Hrytsenko", "street": "vul. Soborna 42"}
}

# What each kind of partner may be told, as issue 7 lists it (with where and when the job is):
# written out here rather than read from need_to_know, so a change there has to change this too.
ISSUE_LISTS = {
    "transfer": {
        "patient.full_name",
        "patient.phone",
        "flight_number",
        "airport",
        "scheduled_arrival",
        "pickup_at",
        "passengers",
        "luggage",
        "mobility",
        "meeting_point",
        "pickup",
        "dropoff",
        "direction",
        "kind",
    },
    "interpreter": {
        "patient.full_name",
        "language_from",
        "language_to",
        "specialty",
        "sessions.date",
        "sessions.start",
        "sessions.duration_minutes",
        "sessions.place",
        "sessions.purpose",
        "kind",
    },
    "shipment": {
        "patient.full_name",
        "items.name",
        "items.active_ingredient",
        "items.strength",
        "items.quantity",
        "items.prescription_reference",
        "cold_chain",
        "customs_documents",
        "destination.recipient",
        "destination.street",
        "destination.postal_code",
        "destination.city",
        "destination.country",
        "kind",
    },
}
# The personal data each kind's offer may hold; booking requests to logistics hold all three.
SHARED_WITH = {"transfer": (*NAME, *PHONE), "interpreter": NAME, "shipment": (*NAME, *ADDRESS)}
OFFER = event_type(Offer)
PARTNER_OF = {"transfer": "rhein-shuttle", "interpreter": "medilingua", "shipment": "ua-courier"}


pytest_plugins = ["tests.support.nats_accounts"]


@pytest.fixture
def nats_url(accounts_nats: Server) -> str:
    """The test's own view (and its streams' cleanup): the admin's, on the accounts server."""
    return accounts_nats.url(ADMIN)


@pytest.fixture
def namespace(accounts_namespace: str) -> str:
    return accounts_namespace


def verbose(cls: type[ServiceSettings], settings: ServiceSettings, **extra: str) -> Any:
    env = as_environ(settings)
    return load_settings(
        cls, environ=env | {"LOG_LEVEL": "debug", "LOG_FORMAT": "json"} | own_metrics_port() | extra
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    await conn.execute(
        "INSERT INTO inquiries.known_conditions (slug, revision, locales) "
        "VALUES ('mitral-valve-insufficiency', 1, '{en,de}')"
    )
    yield conn
    await conn.close()


class Stack:
    """Both services and the partners, in this process; the test's own NATS connection."""

    def __init__(self, inquiries: Client, logistics: Client, bus: Bus) -> None:
        self.inquiries = inquiries
        self.logistics = logistics
        self.bus = bus

    async def step(self, staff: dict[str, str], inquiry_id: str, path: str, body: Any) -> None:
        case = await self.inquiries.get(f"{CASES}/{inquiry_id}", headers=staff)
        response = await self.inquiries.post(
            f"{CASES}/{inquiry_id}/{path}",
            json=body,
            headers=staff | {"If-Match": case.headers["etag"]},
        )
        assert response.status_code in (200, 201), response.text


@asynccontextmanager
async def running_partners(server: Server, admin: Bus) -> AsyncIterator[None]:
    """Each partner as its own user, bound to the consumer the admin made (as `make run`)."""
    assert set(PARTNER_OF.values()) <= set(ACCOUNTS_PARTNERS)
    await admin.provision(STREAMS)
    await ensure_partner_consumers(admin, PARTNER_OF.values())
    stop = asyncio.Event()
    buses = [
        await Bus.connect(
            server.url(p),
            name=p,
            namespace=admin.namespace,
            inbox_prefix=partner_inbox_prefix(p),
        )
        for p in PARTNER_OF.values()
    ]
    tasks = [
        asyncio.create_task(
            ReferencePartner(
                PartnerSettings(
                    partner_id=partner_id,
                    partner_kinds=kind,
                    nats_url=server.url(partner_id),
                    nats_namespace=admin.namespace,
                    nats_inbox_prefix=partner_inbox_prefix(partner_id),
                    partner_consumer="bind",
                    reply_delay=0.05,
                    step_delay=0.05,
                    random_seed=1,
                ),
                bus,
            ).run(stop)
        )
        for (kind, partner_id), bus in zip(PARTNER_OF.items(), buses, strict=True)
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        for bus in buses:
            await bus.close()


@pytest.fixture
async def stack(
    settings: ServiceSettings,
    accounts_nats: Server,
    bus: Bus,
    site: str,
    capsys: pytest.CaptureFixture[str],  # first: the services log into its capture
) -> AsyncIterator[Stack]:
    inquiries = verbose(
        InquiriesSettings,
        settings,
        INQUIRIES_ENCRYPTION_KEYS=KeyRing.generate_setting("i1"),
        NATS_URL=accounts_nats.url("inquiries"),
    )
    logistics = verbose(
        LogisticsSettings,
        settings,
        LOGISTICS_ENCRYPTION_KEYS=KeyRing.generate_setting("l1"),
        NATS_URL=accounts_nats.url("logistics"),
    )
    async with AsyncExitStack() as running:
        inq = await running.enter_async_context(
            AsyncTestClient(inquiries_app(inquiries), raise_server_exceptions=False)
        )
        inq.headers["X-API-Key"] = site
        log = await running.enter_async_context(
            AsyncTestClient(logistics_app(logistics), raise_server_exceptions=False)
        )
        await running.enter_async_context(running_partners(accounts_nats, bus))
        yield Stack(inq, log, bus)


@pytest.fixture
async def site(db: asyncpg.Connection) -> str:
    _, key = await api_keys.create_api_key(
        db, name="heart-clinic-finder", origins=(), rate_per_minute=10_000
    )
    return key


async def token(db: asyncpg.Connection, role: str) -> dict[str, str]:
    _, secret = await staff.create_token(db, person=f"Test {role}", roles=(role,))
    return {"Authorization": f"Bearer {secret}"}


async def completed_bookings(db: asyncpg.Connection, expected: int) -> bool:
    n = await db.fetchval("SELECT count(*) FROM logistics.bookings WHERE status = 'completed'")
    return bool(n == expected)


async def fail_twice(stack: Stack, db: asyncpg.Connection, inquiry_id: str) -> None:
    """A partner's note on a step its booking does not have, and a booking request no decoder
    takes (as a faulty release of inquiries would send it, through its outbox): both name the
    patient, both become dead letters of logistics."""
    booking = await db.fetchval(
        "SELECT id::text FROM logistics.bookings WHERE kind = 'transfer' LIMIT 1"
    )
    note = StatusUpdate(booking_id=booking, status="delivered", note="Zlata Hrytsenko signed")
    await stack.bus.js.publish(
        stack.bus.subject(PARTNER_REPLIES.subject(partner_id=PARTNER_OF["transfer"])),
        msgspec.json.encode(note),
        headers=metadata(StatusUpdate).headers(),
    )
    request = msgspec.to_builtins(
        InquiryConfirmed(inquiry_id=inquiry_id, version=9, bookings=(), confirmed_at=now())
    )
    request["bookings"] = [{"kind": "transfer", "patient": {"full_name": "Zlata Hrytsenko"}}]
    meta = metadata(InquiryConfirmed)
    await db.execute(
        """INSERT INTO inquiries.outbox (id, subject, headers, payload, erasure_key)
           VALUES ($1, $2, $3, $4, $5)""",
        uuid.UUID(meta.id),
        INQUIRY_CONFIRMED.subject(),
        msgspec.json.encode(meta.headers()).decode(),
        msgspec.json.encode(request),
        inquiry_id,
    )

    async def both_dead() -> bool:
        n = await db.fetchval("SELECT count(*) FROM logistics.dead_letters")
        return bool(n == 2)

    await eventually(both_dead, timeout=15)


def metadata(cls: type[Event]) -> Metadata:
    return Metadata(id=str(uuid.uuid4()), type=event_type(cls), source="/tests", time=now())


def now() -> datetime:
    return datetime.now(UTC)


def allowed_in(message: StoredMessage) -> tuple[str, ...]:
    """The personal data a message may hold while the patient's case is live."""
    parts = message.subject.split(".")
    if parts[0] == "partners" and parts[2] == "offers" and message.headers[CE_TYPE] == OFFER:
        return SHARED_WITH[parts[3]]
    if parts[0] == "partners" and parts[2] == "replies":
        return NAME  # a partner's note, quoting whom it served
    if message.subject in ("inquiries.inquiry.confirmed.v1", "inquiries.inquiry.discharged.v1"):
        return (*NAME, *PHONE, *ADDRESS)
    return ()


def found(text: str, secrets: tuple[str, ...]) -> list[str]:
    return [s for s in secrets if s in text]


async def metrics_pages(stack: Stack) -> str:
    pages = [await metrics_page(c) for c in (stack.inquiries, stack.logistics)]
    return " ".join(pages)


async def dead_letters(db: asyncpg.Connection) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT error, payload FROM logistics.dead_letters "
        "UNION ALL SELECT error, payload FROM inquiries.dead_letters"
    )


async def test_personal_data_only_where_a_job_needs_it_and_nowhere_after_erasure(
    stack: Stack,
    db: asyncpg.Connection,
    namespace: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    coordinator = await token(db, "coordinator")
    for kind, partner_id in PARTNER_OF.items():
        registered = await stack.logistics.post(
            "/v1/partners", json=partner(partner_id, kind), headers=coordinator
        )
        assert registered.status_code == 201, registered.text
    submitted = await stack.inquiries.post("/v1/inquiries", json=PATIENT)
    assert submitted.status_code == 201, submitted.text
    inquiry_id = submitted.json()["id"]
    await stack.step(coordinator, inquiry_id, "transitions", {"to": "in_review"})
    await stack.step(coordinator, inquiry_id, "offers", offer())
    await stack.step(coordinator, inquiry_id, "offers/1/accept", None)
    trip = CONFIRMATION | {"payment": PAYMENT}
    await stack.step(coordinator, inquiry_id, "confirmation", trip)
    await eventually(lambda: completed_bookings(db, 2), timeout=30)
    await stack.step(coordinator, inquiry_id, "transitions", {"to": "in_treatment"})
    await stack.step(coordinator, inquiry_id, "discharge", HOME)
    await eventually(lambda: completed_bookings(db, 4), timeout=30)
    await fail_twice(stack, db, inquiry_id)

    # While the case is live: the name only where a job needs it.
    messages = await every_message(stack.bus, namespace)
    offers = [m for m in messages if m.headers[CE_TYPE] == OFFER]
    assert {m.subject.split(".")[3] for m in offers} == set(SHARED_WITH)
    for message in messages:
        leaked = found(message.text, EVERYTHING)
        assert set(leaked) <= set(allowed_in(message)), f"{leaked} in {message}"
    for message in offers:
        body = msgspec.json.decode(message.body)
        kind = body["details"]["kind"]
        assert message.subject.endswith(f".offers.{kind}")
        extra = need_to_know.carried(body["details"]) - ISSUE_LISTS[kind]
        assert not extra, f"an offer to a {kind} partner carries {extra}"
    assert not found(await metrics_pages(stack), EVERYTHING)
    letters = await dead_letters(db)
    assert len(letters) == 2
    assert not found(" ".join(r["error"] for r in letters), EVERYTHING)
    assert all(found(bytes(r["payload"]).decode(), NAME) for r in letters), "they held it"

    await stack.step(coordinator, inquiry_id, "transitions", {"to": "completed"})
    erased = await stack.inquiries.post(
        f"/v1/inquiries/{inquiry_id}/erasure", headers=await token(db, "admin")
    )
    assert erased.status_code == 200, erased.text

    async def copies_gone() -> bool:
        left = await db.fetchval(
            "SELECT (SELECT count(*) FROM logistics.stream_copies)"
            " + (SELECT count(*) FROM inquiries.stream_copies)"
            # The partners' replies are scanned after the copies: wait for the scans too.
            " + (SELECT count(*) FROM logistics.stream_scans)"
            " + (SELECT count(*) FROM logistics.bookings WHERE erased_at IS NULL)"
            " + (SELECT count(*) FROM logistics.outbox) + (SELECT count(*) FROM inquiries.outbox)"
        )
        return bool(left == 0)

    await eventually(copies_gone, timeout=15)

    # Erased: nowhere.
    after = await every_message(stack.bus, namespace)
    assert len(after) < len(messages)
    for message in after:
        assert not found(message.text, EVERYTHING), message
    assert not found(await metrics_pages(stack), EVERYTHING)
    for schema in ("inquiries", "logistics"):
        dump = await every_value(db, schema)
        for table in ("dead_letters", "outbox", "stream_copies"):
            assert not found(dump[table], EVERYTHING), f"{schema}.{table}"
    replay = await stack.logistics.post(
        "/admin/dead-letters/1/replay", headers=await token(db, "admin")
    )
    assert replay.status_code == 409, replay.text
    assert "erased" in replay.json()["detail"]

    lines = capsys.readouterr().err.splitlines()
    assert any('"stream copies erased"' in line for line in lines), "the capture saw the logs"
    for line in lines:
        assert not found(line, EVERYTHING), line


def test_the_allow_lists_are_the_issue_lists() -> None:
    assert {k: set(v) for k, v in need_to_know.ALLOWED.items()} == ISSUE_LISTS
