"""Foundation benchmark: what the outbox and inbox cost next to raw JetStream.

- ceiling: JetStream publish-with-ack, sequential and pipelined, no database;
- outbox relay: rows committed beforehand, drained by one relay (events/s);
- commit-to-stream latency: events committed one per transaction at a steady rate while the
  relay runs (woken by LISTEN/NOTIFY), timed until a subscriber sees them (p50/p99);
- inbox: events applied through a durable consumer, each in its own transaction (events/s).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

import msgspec
from nats.aio.msg import Msg

from contracts.content import ContentEvent, ContentPublished, content_event_decoder
from contracts.envelope import Metadata
from contracts.registry import CONTENT_PUBLISHED, STREAMS, stream_named
from services.content.app import DEFINITION
from services.runtime.core.db import Connection, Pool, create_pool, transaction
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.inbox import Consumer, Subscription
from services.runtime.messaging.outbox import Outbox, Relay
from services.runtime.service.factory import prepare_database

EVENTS = 5_000
LATENCY_EVENTS = 1_000
LATENCY_RATE = 500  # events per second, steady
SUBJECT = CONTENT_PUBLISHED.subject(kind="condition")


def event(i: int) -> ContentPublished:
    return ContentPublished(
        kind="condition",
        slug=f"condition-{i}",
        locales=("en", "de"),
        revision=1,
        published_at=datetime.now(UTC),
    )


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def row(
    name: str, rate: float | None = None, p50: float | None = None, p99: float | None = None
) -> str:
    cells = [
        f"{name:<48}",
        f"{rate:>10,.0f}/s" if rate is not None else f"{'':>12}",
        f"{p50:>9.2f} ms" if p50 is not None else f"{'':>12}",
        f"{p99:>9.2f} ms" if p99 is not None else f"{'':>12}",
    ]
    return " ".join(cells)


async def run(database_url: str, nats_url: str) -> None:
    namespace = f"bench{uuid.uuid4().hex[:6]}"
    bus = await Bus.connect(nats_url, name="bench", namespace=namespace)
    pool = await create_pool(database_url, schema=DEFINITION.schema, min_size=4, max_size=8)
    await prepare_database(pool, DEFINITION)
    await bus.provision(STREAMS)
    await pool.execute("TRUNCATE outbox, inbox, dead_letters")
    outbox = Outbox(source="/carebridge/bench", schema=DEFINITION.schema)
    body = msgspec.json.encode(event(0))
    print(f"runtime benchmark: {EVENTS} events, namespace {namespace}\n")
    print(f"{'':<48} {'rate':>12} {'p50':>12} {'p99':>12}")
    try:
        print(row("ceiling: JetStream publish+ack, sequential", await raw_sequential(bus, body)))
        print(row("ceiling: JetStream publish+ack, pipelined x256", await raw_pipelined(bus, body)))
        print(row("outbox relay drain (batch 256)", await relay_drain(pool, bus, outbox)))
        p50, p99 = await commit_to_stream(pool, bus, outbox, database_url)
        print(row(f"commit -> stream at {LATENCY_RATE}/s (NOTIFY)", None, p50, p99))
        print(row("inbox: consume + apply + record, 1 tx/event", await inbox_apply(pool, bus)))
    finally:
        for info in await bus.js.streams_info():
            if (info.config.name or "").startswith(f"{namespace}_"):
                await bus.js.delete_stream(info.config.name)
        await bus.close()
        await pool.close()


async def raw_sequential(bus: Bus, body: bytes) -> float:
    started = time.perf_counter()
    for i in range(EVENTS):
        await bus.js.publish(bus.subject(SUBJECT), body, headers={"Nats-Msg-Id": f"seq-{i}"})
    return EVENTS / (time.perf_counter() - started)


async def raw_pipelined(bus: Bus, body: bytes) -> float:
    started = time.perf_counter()
    for start in range(0, EVENTS, 256):
        await asyncio.gather(
            *(
                bus.js.publish(bus.subject(SUBJECT), body, headers={"Nats-Msg-Id": f"pip-{i}"})
                for i in range(start, min(start + 256, EVENTS))
            )
        )
    return EVENTS / (time.perf_counter() - started)


async def relay_drain(pool: Pool, bus: Bus, outbox: Outbox) -> float:
    async with transaction(pool) as conn:
        for i in range(EVENTS):
            await outbox.emit(conn, SUBJECT, event(i))
    relay = Relay(pool, bus, schema=DEFINITION.schema, batch_size=256, poll_interval=1.0)
    started = time.perf_counter()
    published = await relay.publish_pending()
    elapsed = time.perf_counter() - started
    assert published == EVENTS, published
    return EVENTS / elapsed


async def commit_to_stream(pool: Pool, bus: Bus, outbox: Outbox, dsn: str) -> tuple[float, float]:
    committed: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()

    async def on_message(msg: Msg) -> None:
        sent = committed.get((msg.headers or {}).get("ce-id", ""))
        if sent is not None:
            latencies.append((time.perf_counter() - sent) * 1000)
            if len(latencies) == LATENCY_EVENTS:
                done.set()

    sub = await bus.nc.subscribe(bus.subject(SUBJECT), cb=on_message)
    relay = Relay(
        pool, bus, schema=DEFINITION.schema, batch_size=256, poll_interval=1.0, listen_dsn=dsn
    )
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.3)
    try:
        await send_steadily(pool, outbox, committed)
        await asyncio.wait_for(done.wait(), 30)
    finally:
        stop.set()
        await relay_task
        await sub.unsubscribe()
    return percentile(latencies, 50), percentile(latencies, 99)


async def send_steadily(pool: Pool, outbox: Outbox, committed: dict[str, float]) -> None:
    interval = 1 / LATENCY_RATE
    next_at = time.perf_counter()
    for i in range(LATENCY_EVENTS):
        async with transaction(pool) as conn:
            event_id = await outbox.emit(conn, SUBJECT, event(i))
            # Stamped as COMMIT is sent: NOTIFY can wake the relay before this block returns.
            committed[event_id] = time.perf_counter()
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


async def inbox_apply(pool: Pool, bus: Bus) -> float:
    applied = 0
    finished = asyncio.Event()

    async def handler(conn: Connection, _: ContentEvent, __: Metadata) -> None:
        nonlocal applied
        await conn.execute("SELECT 1")
        applied += 1
        if applied == EVENTS:
            finished.set()

    # The stream already holds the relay-drain events; the consumer starts from the first.
    sub = Subscription(
        name="bench-inbox",
        channels=(CONTENT_PUBLISHED,),
        decoder=content_event_decoder,
        handler=handler,
    )
    consumer = Consumer(pool, bus, sub, batch_size=256, max_deliver=3, ack_wait=30)
    # Streams refuse purges (docs/operations/jetstream.md): start from a new one instead.
    await bus.js.delete_stream(bus.stream("CONTENT"))
    await bus.provision([stream_named("CONTENT")])
    outbox = Outbox(source="/carebridge/bench", schema=DEFINITION.schema)
    async with transaction(pool) as conn:
        for i in range(EVENTS):
            await outbox.emit(conn, SUBJECT, event(i))
    await Relay(
        pool, bus, schema=DEFINITION.schema, batch_size=256, poll_interval=1
    ).publish_pending()
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.wait_for(finished.wait(), 120)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return EVENTS / elapsed
