"""A running logistics service on real PostgreSQL and NATS, the inquiries events that feed it,
partners that answer over NATS as a real partner would, and taps on what it publishes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts.envelope import NATS_MSG_ID, Event, Metadata, event_type
from contracts.logistics import LogisticsEvent
from contracts.operations import DeadLetterRecorded
from contracts.partners import PartnerOffer, partner_offer_decoder
from contracts.registry import STREAMS
from services.logistics.app import LogisticsSettings, create_app
from services.runtime.access import staff
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.messaging.bus import Bus
from services.runtime.privacy.crypto import KeyRing
from tests.logistics_samples import partner
from tests.support import eventually

Client = AsyncTestClient[Litestar]
Start = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture
def keys_setting() -> str:
    """The test's LOGISTICS_ENCRYPTION_KEYS: every service it starts shares it, as replicas do."""
    return KeyRing.generate_setting("t1")


@pytest.fixture
def keys(keys_setting: str) -> KeyRing:
    """What the service seals with, to open the raw rows as it would."""
    return KeyRing.from_setting(keys_setting)


@pytest.fixture
def start(settings: ServiceSettings, keys_setting: str) -> Start:
    """Start a logistics service; keyword arguments override its settings (OFFER_TIMEOUT=…)."""

    def started(**overrides: str) -> AbstractAsyncContextManager[Client]:
        env = as_environ(settings)
        env |= {
            "OFFER_TIMEOUT": "60",
            "DEADLINE_INTERVAL": "0.1",
            "LOGISTICS_ENCRYPTION_KEYS": keys_setting,
        } | overrides
        app = create_app(load_settings(LogisticsSettings, environ=env))
        return AsyncTestClient(app, raise_server_exceptions=False)

    return started


@pytest.fixture
async def client(start: Start) -> AsyncIterator[Client]:
    async with start() as c:
        yield c


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "logistics"})
    yield conn
    await conn.close()


@pytest.fixture
async def coordinator(db: asyncpg.Connection) -> dict[str, str]:
    _, token = await staff.create_token(db, person="Chris Coordinator", roles=("coordinator",))
    return {"Authorization": f"Bearer {token}"}


Register = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def register(client: Client, coordinator: dict[str, str]) -> Register:
    async def registered(partner_id: str, kind: str, **changes: Any) -> dict[str, Any]:
        response = await client.post(
            "/v1/partners", json=partner(partner_id, kind, **changes), headers=coordinator
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return registered


async def publish(
    bus: Bus,
    subject: str,
    event: Event,
    *,
    source: str,
    event_id: str | None = None,
    msg_id: str | None = None,
) -> str:
    """Publish as another service or a partner does: CloudEvents headers, Nats-Msg-Id = ce-id
    unless `msg_id` says otherwise (a copy the stream's duplicate window does not catch)."""
    meta = Metadata(
        id=event_id or str(uuid.uuid4()),
        type=event_type(type(event)),
        source=source,
        time=datetime.now(UTC),
    )
    headers = meta.headers() | ({NATS_MSG_ID: msg_id} if msg_id else {})
    await bus.js.publish(bus.subject(subject), msgspec.json.encode(event), headers=headers)
    return meta.id


async def reply(bus: Bus, partner_id: str, event: Event, *, event_id: str | None = None) -> str:
    return await publish(
        bus,
        f"partners.{partner_id}.replies",
        event,
        source=f"/partners/{partner_id}",
        event_id=event_id,
    )


class Tap:
    """Everything published on a subject filter, read from the real stream by a pull consumer
    of the test's own."""

    def __init__(self, bus: Bus, stream: str, subjects: str, decoder: Any) -> None:
        self.bus = bus
        self.stream = stream
        self.subjects = subjects
        self.decoder = decoder
        self.seen: list[tuple[str, Any]] = []
        self._psub: Any = None

    async def open(self) -> None:
        await self.bus.provision(STREAMS)
        durable = f"tap-{uuid.uuid4().hex[:8]}"
        await self.bus.js.add_consumer(
            self.bus.stream(self.stream),
            ConsumerConfig(
                durable_name=durable,
                ack_policy=AckPolicy.NONE,
                deliver_policy=DeliverPolicy.ALL,
                filter_subject=self.bus.subject(self.subjects),
            ),
        )
        self._psub = await self.bus.js.pull_subscribe_bind(
            durable, stream=self.bus.stream(self.stream)
        )

    async def close(self) -> None:
        await self._psub.unsubscribe()

    async def read(self) -> list[tuple[str, Any]]:
        """All messages so far, (subject without namespace, decoded body)."""
        while True:
            try:
                msgs = await self._psub.fetch(100, timeout=0.2)
            except (NatsTimeoutError, TimeoutError):
                return self.seen
            self.seen += [(self.bus.unprefix(m.subject), self.decoder.decode(m.data)) for m in msgs]

    async def until(self, check: Callable[[list[tuple[str, Any]]], bool]) -> list[tuple[str, Any]]:
        async def met() -> list[tuple[str, Any]] | None:
            seen = await self.read()
            return seen if check(seen) else None

        result: list[tuple[str, Any]] = await eventually(met, timeout=15)
        return result


@pytest.fixture
async def offers(bus: Bus) -> AsyncIterator[Tap]:
    """Offers and withdrawals sent to any partner."""
    tap = Tap(bus, "PARTNERS", "partners.*.offers.*", partner_offer_decoder)
    await tap.open()
    yield tap
    await tap.close()


@pytest.fixture
async def events(bus: Bus) -> AsyncIterator[Tap]:
    """Booking events and operator alerts, and the announcements of dead letters."""
    tap = Tap(
        bus, "LOGISTICS", "logistics.>", msgspec.json.Decoder(LogisticsEvent | DeadLetterRecorded)
    )
    await tap.open()
    yield tap
    await tap.close()


def of_type(seen: list[tuple[str, Any]], cls: type[PartnerOffer | LogisticsEvent]) -> list[Any]:
    return [event for _, event in seen if isinstance(event, cls)]


async def dead_letters(db: asyncpg.Connection) -> list[tuple[str, str]]:
    rows = await db.fetch("SELECT consumer, error FROM dead_letters ORDER BY id")
    return [(r["consumer"], r["error"]) for r in rows]


async def booking_row(db: asyncpg.Connection, booking_id: str) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT status, version, partner_id, progress FROM bookings WHERE id = $1",
        uuid.UUID(booking_id),
    )
    assert row is not None
    return row
