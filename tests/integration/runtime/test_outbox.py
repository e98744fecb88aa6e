"""The transactional outbox against real PostgreSQL and JetStream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.content import ContentPublished
from contracts.envelope import CE_CORRELATIONID, CE_ID, CE_SOURCE, CE_TYPE, NATS_MSG_ID
from contracts.registry import CONTENT_PUBLISHED, STREAMS, stream_named
from deploy.embedded import free_port, start_nats
from services.runtime.core.db import Pool, transaction
from services.runtime.messaging import outbox as outbox_module
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.outbox import Outbox, Relay
from tests.support import eventually

SCHEMA = "content"
SUBJECT = CONTENT_PUBLISHED.subject(kind="condition")


def published(slug: str = "mitral-valve-insufficiency") -> ContentPublished:
    return ContentPublished(
        kind="condition",
        slug=slug,
        locales=("en", "de"),
        revision=1,
        published_at=datetime(2026, 11, 25, tzinfo=UTC),
    )


def relay(
    pool: Pool,
    bus: Bus,
    *,
    poll_interval: float = 0.2,
    listen_dsn: str | None = None,
    on_published: Callable[[int], None] = lambda _: None,
) -> Relay:
    return Relay(
        pool,
        bus,
        schema=SCHEMA,
        batch_size=10,
        poll_interval=poll_interval,
        listen_dsn=listen_dsn,
        on_published=on_published,
    )


async def stream_messages(bus: Bus) -> int:
    info = await bus.js.stream_info(bus.stream("CONTENT"))
    return int(info.state.messages)


async def stream_holds(bus: Bus, expected: int) -> bool:
    return await stream_messages(bus) == expected


async def outbox_is_empty(pool: Pool) -> bool:
    return await backlog(pool) == 0


async def backlog(pool: Pool) -> int:
    async with pool.acquire() as conn:
        return await outbox_module.count_backlog(conn)


OUTBOX = Outbox(source="/carebridge/test", schema=SCHEMA)


async def test_event_is_published_once_after_commit(pool: Pool, provisioned: Bus) -> None:
    async with transaction(pool) as conn:
        event_id = await OUTBOX.emit(conn, SUBJECT, published(), correlation_id="corr-1")

    assert await relay(pool, provisioned).publish_pending() == 1

    assert await stream_messages(provisioned) == 1
    assert await backlog(pool) == 0
    msg = await provisioned.js.get_last_msg(
        provisioned.stream("CONTENT"), provisioned.subject(SUBJECT)
    )
    assert msg.headers is not None
    assert msg.headers[CE_ID] == event_id == msg.headers[NATS_MSG_ID]
    assert msg.headers[CE_TYPE] == "org.carebridge.content_published.v1"
    assert msg.headers[CE_SOURCE] == "/carebridge/test"
    assert msg.headers[CE_CORRELATIONID] == "corr-1"
    assert msg.data == b'{"type":"content_published","kind":"condition",' + (
        b'"slug":"mitral-valve-insufficiency","locales":["en","de"],"revision":1,'
        b'"published_at":"2026-11-25T00:00:00Z","previous_slugs":[]}'
    )


async def test_nothing_is_published_after_rollback(pool: Pool, provisioned: Bus) -> None:
    with pytest.raises(RuntimeError):  # noqa: PT012 - the block is the transaction that fails
        async with transaction(pool) as conn:
            await OUTBOX.emit(conn, SUBJECT, published())
            raise RuntimeError("the state change failed")

    assert await relay(pool, provisioned).publish_pending() == 0
    assert await stream_messages(provisioned) == 0


async def test_relay_killed_between_publish_and_mark_republishes_and_stream_dedupes(
    pool: Pool, provisioned: Bus
) -> None:
    async with transaction(pool) as conn:
        await OUTBOX.emit(conn, SUBJECT, published())
    # A relay that published and died before its delete committed: the rows stay pending.
    with pytest.raises(ConnectionResetError):  # noqa: PT012 - the transaction that dies
        async with transaction(pool) as conn:
            rows = await outbox_module.claim_batch(conn, 10)
            await outbox_module.publish_rows(provisioned, rows)
            raise ConnectionResetError("relay process killed")
    assert await backlog(pool) == 1

    assert await relay(pool, provisioned).publish_pending() == 1

    assert await stream_messages(provisioned) == 1
    assert await backlog(pool) == 0


# The server is shared by the tests running at once: only this test's database counts.
LISTENERS = """FROM pg_stat_activity
               WHERE datname = current_database() AND query LIKE 'LISTEN %content_outbox%'"""


async def listening(pool: Pool) -> bool:
    return bool(await pool.fetchval(f"SELECT count(*) {LISTENERS}"))


async def test_relay_wakes_on_notify_without_waiting_for_the_poll(
    pool: Pool, provisioned: Bus, database_url: str
) -> None:
    stop = asyncio.Event()
    relay_ = relay(pool, provisioned, poll_interval=60, listen_dsn=database_url)
    task = asyncio.create_task(relay_.run(stop))
    try:
        await eventually(lambda: listening(pool))
        async with transaction(pool) as conn:
            await OUTBOX.emit(conn, SUBJECT, published())
        # Far sooner than the 60 s poll: only the NOTIFY can have woken the relay.
        await eventually(lambda: stream_holds(provisioned, 1), timeout=5)
    finally:
        stop.set()
        await task


async def test_replicas_share_the_outbox_and_publish_each_event_once(
    pool: Pool, provisioned: Bus
) -> None:
    async with transaction(pool) as conn:
        for i in range(60):
            await OUTBOX.emit(conn, SUBJECT, published(f"condition-{i}"))
    counts: list[int] = []
    replicas = [relay(pool, provisioned, on_published=counts.append) for _ in range(3)]

    await asyncio.gather(*(r.publish_pending() for r in replicas))

    # Dedup in the stream would hide a double publish, so count what the relays sent.
    assert sum(counts) == 60
    assert await stream_messages(provisioned) == 60
    assert await backlog(pool) == 0


async def test_relay_keeps_events_while_nats_is_down_and_publishes_when_it_returns(
    pool: Pool, namespace: str, tmp_path: Path
) -> None:
    data = tmp_path / "nats"
    port = free_port()
    server = start_nats(data, port)
    bus = await Bus.connect(f"nats://127.0.0.1:{port}", name="relay", namespace=namespace)
    await bus.provision(STREAMS)
    stop = asyncio.Event()
    running = relay(pool, bus, poll_interval=0.1)
    task = asyncio.create_task(running.run(stop))
    try:
        server.stop()
        async with transaction(pool) as conn:
            await OUTBOX.emit(conn, SUBJECT, published())

        # With nothing to publish the relay does not touch NATS: a round put off now is the
        # attempt to publish this event. (Not read from its log: a logger cached before a
        # capture starts writes past it.)
        async def put_off() -> bool:
            return running.rounds_put_off > 0

        await eventually(put_off, timeout=20)
        assert await backlog(pool) == 1, "the event must wait in the outbox while NATS is down"

        server = start_nats(data, port)  # same storage: the stream survives the restart

        await eventually(lambda: outbox_is_empty(pool), timeout=20)
        assert await stream_messages(bus) == 1
    finally:
        stop.set()
        await task
        await bus.close()
        server.stop()


async def test_relay_survives_losing_its_listen_connection(
    pool: Pool, provisioned: Bus, database_url: str
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(
        relay(pool, provisioned, poll_interval=0.2, listen_dsn=database_url).run(stop)
    )
    try:
        await eventually(lambda: listening(pool))
        await pool.execute(f"SELECT pg_terminate_backend(pid) {LISTENERS}")
        async with transaction(pool) as conn:
            await OUTBOX.emit(conn, SUBJECT, published())

        await eventually(lambda: stream_holds(provisioned, 1), timeout=5)
        await eventually(lambda: listening(pool), timeout=5)  # and it listens again
        assert not task.done(), "the relay must keep running"
    finally:
        stop.set()
        await task


async def test_a_full_stream_leaves_events_in_the_outbox_and_drops_none(
    pool: Pool, nats_url: str, namespace: str
) -> None:
    full = await Bus.connect(nats_url, name="full", namespace=namespace, max_bytes=2048)
    stop = asyncio.Event()
    task = asyncio.create_task(relay(pool, full, poll_interval=0.1).run(stop))
    try:
        await full.provision([stream_named("CONTENT")])
        async with transaction(pool) as conn:
            for i in range(20):
                await OUTBOX.emit(conn, SUBJECT, published(f"condition-{i}"))

        # The stream takes what fits and refuses the rest (discard new): the rest waits.
        await eventually(lambda: stream_holds_some_and_outbox_the_rest(full, pool))

        # An operator gives the stream room (NATS_STREAM_MAX_BYTES): the relay catches up.
        await Bus(full.nc, namespace=namespace, max_bytes=1 << 20).provision(
            [stream_named("CONTENT")]
        )
        await eventually(lambda: outbox_is_empty(pool), timeout=20)
        info = await full.js.stream_info(full.stream("CONTENT"))
        # Nothing was dropped to make room, and nothing is there twice.
        assert (info.state.first_seq, info.state.messages) == (1, 20)
    finally:
        stop.set()
        await task
        await full.close()


async def stream_holds_some_and_outbox_the_rest(bus: Bus, pool: Pool) -> bool:
    return 0 < await stream_messages(bus) < 20 and await backlog(pool) > 0
