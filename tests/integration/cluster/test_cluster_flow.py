"""Streams at three replicas on a 3-node cluster: while an outbox relay publishes a steady flow of
committed events and a durable consumer applies them, the stream's leader is killed with
SIGKILL. Nothing is lost and nothing is applied twice; the killed node catches up on restart."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from contracts.content import ContentEvent, ContentPublished, content_event_decoder
from contracts.envelope import NATS_MSG_ID, Metadata
from contracts.registry import CONTENT_PUBLISHED, STREAMS
from deploy.cluster import NatsCluster
from services.runtime.core.db import Connection, Pool, create_pool, transaction
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.inbox import Consumer, Subscription
from services.runtime.messaging.outbox import Outbox, Relay
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import prepare_database
from tests.support import eventually

pytestmark = pytest.mark.cluster

DEFINITION = ServiceDefinition(
    name="flow",
    title="flow under test",
    description="publishes and applies its own events across a node failure",
    migrations=Path(__file__).parent / "migrations",
    default_port=0,
)
SUBJECT = CONTENT_PUBLISHED.subject(kind="condition")
EVENTS = 600
RATE = 100  # events committed per second, one transaction each
KILL_AFTER = 150  # events committed before the leader dies
DRAIN_TIMEOUT = 30.0


@dataclass
class Flow:
    """What the relay and the consumer did, as they report it."""

    ids: list[str] = field(default_factory=list)
    published: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    applied_at: list[float] = field(default_factory=list)
    victim: str = ""
    killed_at: float = 0.0
    drained_at: float = 0.0
    # What the relay and the consumer logged, by message: their retries.
    retries: Counter[str] = field(default_factory=Counter)

    def count_published(self, rows: int) -> None:
        self.published += rows

    def count_outcome(self, _: str, outcome: str) -> None:
        self.outcomes[outcome] += 1

    async def apply(self, conn: Connection, event: ContentEvent, meta: Metadata) -> None:
        await conn.execute(
            "INSERT INTO applied (event_id, slug) VALUES ($1, $2)", meta.id, event.slug
        )
        self.applied_at.append(time.monotonic())

    def longest_pause(self, since: float) -> float:
        """The longest time without an applied event from `since` on."""
        times = [since, *(t for t in self.applied_at if t >= since)]
        return max(b - a for a, b in itertools.pairwise(times))


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, schema=DEFINITION.schema, min_size=2, max_size=6)
    await prepare_database(pool, DEFINITION)
    yield pool
    await pool.close()


@dataclass
class Buses:
    """Two connections to the cluster, as the publishing and the consuming service each have."""

    relay: Bus
    consumer: Bus

    @property
    def stream(self) -> str:
        return self.relay.stream("CONTENT")


@pytest.fixture
async def buses(cluster: NatsCluster, cluster_namespace: str) -> AsyncIterator[Buses]:
    connected = [
        await Bus.connect(cluster.urls, name=name, namespace=cluster_namespace, replicas=3)
        for name in ("flow-relay", "flow-consumer")
    ]
    await connected[0].provision(STREAMS)
    yield Buses(*connected)
    for bus in connected:
        await bus.close()


async def commit_events(pool: Pool, ids: list[str], midway: asyncio.Event) -> None:
    """Commit EVENTS events at a steady RATE, one transaction each; `midway` is set once
    KILL_AFTER of them are in."""
    outbox = Outbox(source="/carebridge/flow", schema=DEFINITION.schema)
    begin = time.monotonic()
    for i in range(EVENTS):
        async with transaction(pool) as conn:
            event = ContentPublished(
                kind="condition",
                slug=f"condition-{i}",
                locales=("en",),
                revision=1,
                published_at=datetime.now(UTC),
            )
            ids.append(await outbox.emit(conn, SUBJECT, event))
        if len(ids) == KILL_AFTER:
            midway.set()
        await asyncio.sleep(max(0.0, begin + (i + 1) / RATE - time.monotonic()))


def start_loops(
    flow: Flow, pool: Pool, buses: Buses, database_url: str, stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    """The runtime's relay and consumer, configured as a service would run them."""
    relay = Relay(
        pool,
        buses.relay,
        schema=DEFINITION.schema,
        batch_size=32,
        poll_interval=0.2,
        listen_dsn=database_url,
        on_published=flow.count_published,
    )
    consumer = Consumer(
        pool,
        buses.consumer,
        Subscription(
            name="flow-applier",
            channels=(CONTENT_PUBLISHED,),
            decoder=content_event_decoder,
            handler=flow.apply,
        ),
        batch_size=16,
        max_deliver=5,
        ack_wait=5,
        on_outcome=flow.count_outcome,
    )
    return [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumer.run(stop))]


async def kill_the_leader_mid_flow(
    cluster: NatsCluster, pool: Pool, buses: Buses, database_url: str, flow: Flow
) -> None:
    """Commit the events; once KILL_AFTER are in and applying has begun, SIGKILL the stream's
    leader; return when every event is applied and the loops have stopped."""
    stop = asyncio.Event()
    loops = start_loops(flow, pool, buses, database_url, stop)
    midway = asyncio.Event()
    producing = asyncio.create_task(commit_events(pool, flow.ids, midway))
    with structlog.testing.capture_logs() as logs:
        try:
            await asyncio.wait_for(midway.wait(), 30)
            await eventually(lambda: count(pool, "SELECT count(*) FROM applied"))
            info = await buses.relay.js.stream_info(buses.stream)
            assert info.config.num_replicas == 3
            assert info.cluster is not None
            flow.victim = info.cluster.leader or ""
            flow.killed_at = time.monotonic()
            cluster.kill(flow.victim)

            await producing
            await eventually(lambda: everything_applied(pool), timeout=DRAIN_TIMEOUT, interval=0.2)
            flow.drained_at = time.monotonic()
        finally:
            producing.cancel()
            stop.set()
            await asyncio.gather(*loops)
    flow.retries = Counter(str(entry["event"]) for entry in logs)


async def count(pool: Pool, sql: str) -> int:
    return int(await pool.fetchval(sql))


async def stream_ids(bus: Bus, stream: str, messages: int) -> list[str]:
    ids = []
    for seq in range(1, messages + 1):
        msg = await bus.js.get_msg(stream, seq)
        ids.append((msg.headers or {})[NATS_MSG_ID])
    return ids


async def test_killing_the_stream_leader_mid_flow_loses_and_doubles_nothing(
    cluster: NatsCluster, pool: Pool, buses: Buses, database_url: str
) -> None:
    flow = Flow()

    await kill_the_leader_mid_flow(cluster, pool, buses, database_url, flow)

    # Every committed event applied exactly once, through the inbox.
    assert await count(pool, "SELECT count(*) FROM applied") == EVENTS
    applied = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM applied")}
    assert applied == set(flow.ids)
    assert await count(pool, "SELECT count(*) FROM inbox WHERE consumer = 'flow-applier'") == EVENTS
    assert await count(pool, "SELECT count(*) FROM outbox") == 0
    assert await count(pool, "SELECT count(*) FROM dead_letters") == 0
    assert flow.outcomes["applied"] == EVENTS
    # Published at least once each; a batch re-sent after a lost acknowledgement is held once.
    assert flow.published >= EVENTS
    info = await buses.relay.js.stream_info(buses.stream)
    assert info.state.messages == EVENTS
    assert sorted(await stream_ids(buses.relay, buses.stream, EVENTS)) == sorted(flow.ids)
    # Two of three nodes carried the stream: a new leader and one current follower, while the
    # killed node is reported behind (the cluster notices that within seconds, not at once).
    assert info.config.num_replicas == 3
    assert await eventually(lambda: carried_by_survivors(buses.relay, buses.stream, flow.victim))

    cluster.restart(flow.victim)
    restarted_at = time.monotonic()
    await eventually(lambda: caught_up(cluster, flow.victim, buses.stream), timeout=20)
    caught_up_in = time.monotonic() - restarted_at
    await eventually(lambda: all_peers_current(buses.relay, buses.stream), timeout=20)

    print(
        f"\ncluster flow: {EVENTS} events at {RATE}/s, leader {flow.victim} killed after "
        f"{KILL_AFTER} commits; down {restarted_at - flow.killed_at:.1f}s; "
        f"longest pause in applying {flow.longest_pause(flow.killed_at):.2f}s; drained "
        f"{flow.drained_at - flow.killed_at:.1f}s after the kill; rows published "
        f"{flow.published} (re-sent {flow.published - EVENTS}); redeliveries dropped by the "
        f"inbox {flow.outcomes['duplicate']}; relay retries "
        f"{flow.retries['outbox relay retrying']}, consumer retries "
        f"{flow.retries['consumer retrying']}; restarted node caught up in "
        f"{caught_up_in:.1f}s"
    )


async def everything_applied(pool: Pool) -> bool:
    return (
        await count(pool, "SELECT count(*) FROM outbox") == 0
        and await count(pool, "SELECT count(DISTINCT event_id) FROM applied") == EVENTS
    )


async def caught_up(cluster: NatsCluster, name: str, stream: str) -> bool:
    """The node's own copy of the stream, as its monitoring endpoint reports it, holds it all."""
    jsz = cluster.node(name).monitor("jsz?streams=true")
    for account in (jsz or {}).get("account_details") or []:
        for detail in account.get("stream_detail") or []:
            if detail.get("name") == stream:
                return bool(detail["state"]["messages"] == EVENTS)
    return False


async def carried_by_survivors(bus: Bus, stream: str, victim: str) -> bool:
    cluster = (await bus.js.stream_info(stream)).cluster
    if cluster is None or cluster.leader in (None, victim):
        return False
    peers = {p.name: p for p in cluster.replicas or []}
    survivors = [p for name, p in peers.items() if name != victim]
    return (
        len(peers) == 2 and victim in peers and survivors[0].current and not peers[victim].current
    )


async def all_peers_current(bus: Bus, stream: str) -> bool:
    info = await bus.js.stream_info(stream)
    replicas = (info.cluster.replicas if info.cluster else None) or []
    return len(replicas) == 2 and all(p.current for p in replicas)
