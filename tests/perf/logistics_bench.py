"""The whole booking path, measured: `InquiryConfirmed` events published as the inquiries relay
publishes them -> the logistics service (its own process) creates one booking per requested
service -> offers on the partners' subjects -> in-process reference partners answer at once ->
logistics confirms the bookings. Beside it, in the same run, JetStream's own publish-with-ack
rate: the ceiling no message path can pass.

- throughput: inquiries (three bookings each) published as fast as JetStream acks them; bookings/s
  from the first publish until the last booking is confirmed;
- latency: inquiries at a steady half of that rate, time from publishing the confirmed event to
  the offer appearing on the partner's subject (p50/p99), and on to the booking confirmed.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import httpx
import msgspec
from nats.aio.msg import Msg

from contracts.envelope import Metadata, event_type
from contracts.inquiries import InquiryConfirmed
from contracts.logistics import (
    BookingCreated,
    BookingDetails,
    BookingStatusChanged,
    logistics_event_decoder,
)
from contracts.registry import (
    BOOKING_CREATED,
    BOOKING_STATUS_CHANGED,
    INQUIRY_CONFIRMED,
    PARTNER_OFFERS,
    STREAMS,
)
from deploy.embedded import free_port
from deploy.stack.files import REPO
from deploy.stack.partners import LOCAL_PARTNERS, register_partners
from services.logistics.app import DEFINITION as LOGISTICS
from services.partner.app import PartnerSettings
from services.partner.consumers import ReferencePartner
from services.runtime.access import staff
from services.runtime.core.db import create_pool
from services.runtime.core.log import configure_logging
from services.runtime.messaging.bus import Bus
from services.runtime.privacy.crypto import KeyRing
from services.runtime.service.factory import prepare_database
from tests.partner_samples import details
from tests.perf import runtime_bench
from tests.perf.runtime_bench import percentile, row

INQUIRIES = 400  # three bookings each
LATENCY_INQUIRIES = 200
PIPELINE = 64
READY_DEADLINE = 60.0
FLOW_DEADLINE = 300.0
BOOKINGS: tuple[BookingDetails, ...] = (
    details("transfer"),
    details("interpreter"),
    details("shipment"),
)


@dataclass
class Flow:
    """What the bench observes on the wire, by booking and by inquiry."""

    published: dict[str, float] = field(default_factory=dict)
    inquiry_of: dict[str, str] = field(default_factory=dict)
    offered: dict[str, float] = field(default_factory=dict)
    confirmed: dict[str, float] = field(default_factory=dict)
    all_confirmed: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    def reset(self, expected: int) -> None:
        self.published.clear()
        self.inquiry_of.clear()
        self.offered.clear()
        self.confirmed.clear()
        self.all_confirmed.clear()
        self.expected = expected

    async def on_offer(self, msg: Msg) -> None:
        # The first offer of a booking counts; re-offers after a decline would come later.
        booking_id = msgspec.json.decode(msg.data).get("booking_id")
        if booking_id:
            self.offered.setdefault(booking_id, time.perf_counter())

    async def on_logistics_event(self, msg: Msg) -> None:
        event = logistics_event_decoder.decode(msg.data)
        match event:
            case BookingCreated(inquiry_id=inquiry_id) if inquiry_id is not None:
                self.inquiry_of[event.booking_id] = inquiry_id
            case BookingStatusChanged(to_status="confirmed"):
                self.confirmed.setdefault(event.booking_id, time.perf_counter())
                if len(self.confirmed) >= self.expected:
                    self.all_confirmed.set()
            case _:
                pass

    def offer_latencies(self) -> list[float]:
        return [
            (at - self.published[self.inquiry_of[booking]]) * 1000
            for booking, at in self.offered.items()
            if self.inquiry_of.get(booking) in self.published
        ]

    def confirm_latencies(self) -> list[float]:
        return [
            (at - self.published[self.inquiry_of[booking]]) * 1000
            for booking, at in self.confirmed.items()
            if self.inquiry_of.get(booking) in self.published
        ]


async def run(admin_url: str, nats_url: str) -> None:
    # The in-process partners log every answer; at thousands a second that is the benchmark.
    configure_logging(service="bench", level="warning")
    namespace = f"bench{uuid.uuid4().hex[:6]}"
    bus = await Bus.connect(nats_url, name="bench-logistics", namespace=namespace)
    await bus.provision(STREAMS)
    print(
        f"\nwhole booking path: {INQUIRIES} inquiries x {len(BOOKINGS)} bookings, "
        f"namespace {namespace}\n"
    )
    print(f"{'':<48} {'rate':>12} {'p50':>12} {'p99':>12}")
    try:
        body = msgspec.json.encode(runtime_bench.event(0))
        sequential = await runtime_bench.raw_sequential(bus, body)
        print(row("ceiling: JetStream publish+ack, sequential", sequential))
        pipelined = await runtime_bench.raw_pipelined(bus, body)
        print(row("ceiling: JetStream publish+ack, pipelined x256", pipelined))
        async with logistics_database(admin_url) as database_url:
            token = await coordinator_token(database_url)
            async with logistics_service(database_url, nats_url, namespace) as url:
                await register_partners(url, token, LOCAL_PARTNERS)
                async with fast_partners(nats_url, namespace):
                    await measure(bus)
    finally:
        for info in await bus.js.streams_info():
            if (info.config.name or "").startswith(f"{namespace}_"):
                await bus.js.delete_stream(info.config.name)
        await bus.close()


async def measure(bus: Bus) -> None:
    flow = Flow()
    subs = [
        await bus.nc.subscribe(
            bus.subject(PARTNER_OFFERS.filter_subject), cb=flow.on_offer, pending_msgs_limit=-1
        ),
        await bus.nc.subscribe(bus.subject(BOOKING_CREATED.subject()), cb=flow.on_logistics_event),
        await bus.nc.subscribe(
            bus.subject(BOOKING_STATUS_CHANGED.subject()), cb=flow.on_logistics_event
        ),
    ]
    # This process holds the clocks and the partners that stand for other companies' systems;
    # its own collector must not be measured. It imports the services (86,000 objects before
    # it starts anything), and its collections paused them for tens of ms, read as logistics'
    # p99 (docs/performance.md, "The booking path").
    gc.collect()
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        # A short warm-up, so the first measured booking does not pay for cold caches.
        flow.reset(expected=3 * 10)
        await publish_burst(bus, flow, 10)
        await asyncio.wait_for(flow.all_confirmed.wait(), FLOW_DEADLINE)

        flow.reset(expected=INQUIRIES * len(BOOKINGS))
        started = time.perf_counter()
        await publish_burst(bus, flow, INQUIRIES)
        await asyncio.wait_for(flow.all_confirmed.wait(), FLOW_DEADLINE)
        elapsed = max(flow.confirmed.values()) - started
        bookings_rate = flow.expected / elapsed
        offers = flow.offer_latencies()
        print(
            row(
                "confirmed event -> booking confirmed, burst",
                bookings_rate,
                percentile(flow.confirm_latencies(), 50),
                percentile(flow.confirm_latencies(), 99),
            )
        )
        print(row("  of which event -> offer on partner subject", None, *quantiles(offers)))

        rate = max(1.0, bookings_rate / len(BOOKINGS) / 2)
        flow.reset(expected=LATENCY_INQUIRIES * len(BOOKINGS))
        await publish_steadily(bus, flow, LATENCY_INQUIRIES, rate)
        await asyncio.wait_for(flow.all_confirmed.wait(), FLOW_DEADLINE)
        print(
            row(
                f"event -> offer at {rate * len(BOOKINGS):,.0f} bookings/s",
                None,
                *quantiles(flow.offer_latencies()),
            )
        )
        print(
            row(
                f"event -> booking confirmed at {rate * len(BOOKINGS):,.0f} bookings/s",
                None,
                *quantiles(flow.confirm_latencies()),
            )
        )
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
        for sub in subs:
            await sub.unsubscribe()


def quantiles(values: list[float]) -> tuple[float, float]:
    return percentile(values, 50), percentile(values, 99)


async def publish_one(bus: Bus, flow: Flow) -> None:
    inquiry_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    event = InquiryConfirmed(inquiry_id=inquiry_id, version=1, bookings=BOOKINGS, confirmed_at=now)
    meta = Metadata(
        id=str(uuid.uuid4()),
        type=event_type(InquiryConfirmed),
        source="/carebridge/inquiries",
        time=now,
    )
    flow.published[inquiry_id] = time.perf_counter()
    await bus.js.publish(
        bus.subject(INQUIRY_CONFIRMED.subject()), msgspec.json.encode(event), headers=meta.headers()
    )


async def publish_burst(bus: Bus, flow: Flow, count: int) -> None:
    for start in range(0, count, PIPELINE):
        await asyncio.gather(
            *(publish_one(bus, flow) for _ in range(start, min(start + PIPELINE, count)))
        )


async def publish_steadily(bus: Bus, flow: Flow, count: int, rate: float) -> None:
    interval = 1 / rate
    next_at = time.perf_counter()
    for _ in range(count):
        await publish_one(bus, flow)
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


@asynccontextmanager
async def logistics_database(admin_url: str) -> AsyncIterator[str]:
    name = f"bench_logistics_{uuid.uuid4().hex[:8]}"
    base, _, _ = admin_url.rpartition("/")
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    url = f"{base}/{name}"
    try:
        pool = await create_pool(url, schema=LOGISTICS.schema, min_size=1, max_size=1)
        try:
            await prepare_database(pool, LOGISTICS)
        finally:
            await pool.close()
        yield url
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


async def coordinator_token(database_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        _, token = await staff.create_token(conn, person="bench", roles=("coordinator",))
    finally:
        await conn.close()
    return token


@asynccontextmanager
async def logistics_service(database_url: str, nats_url: str, namespace: str) -> AsyncIterator[str]:
    """The service as it runs in production: its own process, its own core."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "NATS_NAMESPACE": namespace,
        "PORT": str(port),
        "LOG_LEVEL": "warning",
        "LOG_FORMAT": "json",
        "CONSUMER_BATCH_SIZE": "256",
        # Bookings are sealed at rest as in production, so sealing is part of the figures.
        "LOGISTICS_ENCRYPTION_KEYS": KeyRing.generate_setting("bench1"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.logistics", cwd=REPO, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, process)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def wait_ready(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + READY_DEADLINE
    async with httpx.AsyncClient() as client:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"logistics exited with {process.returncode}")
            try:
                if (await client.get(f"{url}/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"logistics not ready after {READY_DEADLINE:.0f}s")
            await asyncio.sleep(0.1)


@asynccontextmanager
async def fast_partners(nats_url: str, namespace: str) -> AsyncIterator[None]:
    """One reference partner per kind, answering at once. Their progress reports are parked
    (an hour apart): the path measured ends at the booking confirmed."""
    stop = asyncio.Event()
    buses: list[Bus] = []
    tasks = []
    for partner in LOCAL_PARTNERS:
        bus = await Bus.connect(nats_url, name=f"bench-{partner.id}", namespace=namespace)
        buses.append(bus)
        settings = PartnerSettings(
            partner_id=partner.id,
            partner_kinds=",".join(partner.kinds),
            nats_url=nats_url,
            nats_namespace=namespace,
            reply_delay=0.0,
            step_delay=3600.0,
            batch_size=256,
        )
        tasks.append(asyncio.create_task(ReferencePartner(settings, bus).run(stop)))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for bus in buses:
            await bus.close()
