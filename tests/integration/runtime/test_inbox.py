"""Idempotent consumers, retries and dead letters against real PostgreSQL and JetStream."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
import pytest

from contracts.content import ContentEvent, ContentPublished, content_event_decoder
from contracts.envelope import Metadata, event_type
from contracts.registry import CONTENT_PUBLISHED
from services.runtime.core.db import Connection, Pool
from services.runtime.core.errors import Conflict, NotFound
from services.runtime.messaging import dead_letters
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.inbox import Consumer, Outcome, Subscription, replay_dead_letter
from tests.support import eventually

SCHEMA = "inquiries"
SUBJECT = CONTENT_PUBLISHED.subject(kind="condition")


@dataclass
class Catalogue:
    """A handler with a real effect (a row per applied event) and switchable failures."""

    fail_times: int = 0
    refuse: bool = False
    calls: int = 0
    seen: list[str] = field(default_factory=list)

    async def apply(self, conn: Connection, event: ContentEvent, meta: Metadata) -> None:
        self.calls += 1
        if self.refuse:
            raise Conflict(f"slug {event.slug} is reserved")
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("handler bug")
        await conn.execute(
            "INSERT INTO applied (event_id, slug) VALUES ($1, $2)", meta.id, event.slug
        )
        self.seen.append(meta.id)


@pytest.fixture
async def pool(pool: Pool) -> Pool:
    await pool.execute("CREATE TABLE applied (event_id text, slug text)")
    return pool


def subscription(catalogue: Catalogue) -> Subscription[ContentEvent]:
    return Subscription(
        name="test-catalogue",
        channels=(CONTENT_PUBLISHED,),
        decoder=content_event_decoder,
        handler=catalogue.apply,
    )


def metadata(event_id: str | None = None) -> Metadata:
    return Metadata(
        id=event_id or str(uuid.uuid4()),
        type=event_type(ContentPublished),
        source="/carebridge/content",
        time=datetime.now(UTC),
    )


BODY = msgspec.json.encode(
    ContentPublished(
        kind="condition",
        slug="mitral-valve-insufficiency",
        locales=("en",),
        revision=1,
        published_at=datetime(2026, 11, 25, tzinfo=UTC),
    )
)


async def publish(bus: Bus, body: bytes, headers: dict[str, str]) -> None:
    await bus.js.publish(bus.subject(SUBJECT), body, headers=headers)


class Running:
    def __init__(self, consumer: Consumer, reasons: list[str] | None = None) -> None:
        self.consumer = consumer
        # The reasons the consumer counted dead letters under, as its metrics get them.
        self.reasons = reasons if reasons is not None else []
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(consumer.run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def catalogue() -> Catalogue:
    return Catalogue()


@pytest.fixture
async def running(pool: Pool, provisioned: Bus, catalogue: Catalogue) -> AsyncIterator[Running]:
    reasons: list[str] = []
    consumer = Consumer(
        pool,
        provisioned,
        subscription(catalogue),
        batch_size=8,
        max_deliver=3,
        ack_wait=5,
        on_dead_lettered=lambda _consumer, reason: reasons.append(reason),
    )
    await consumer.ensure()
    run = Running(consumer, reasons)
    yield run
    await run.close()


async def applied_rows(pool: Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM applied"))


async def open_dead_letters(pool: Pool) -> list[dead_letters.DeadLetter]:
    async with pool.acquire() as conn:
        return await dead_letters.list_dead_letters(conn)


async def consumer_settled(bus: Bus, consumer: Consumer) -> bool:
    info = await bus.js.consumer_info(bus.stream("CONTENT"), consumer.durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_an_event_is_applied_once_and_acked(
    pool: Pool, provisioned: Bus, running: Running, catalogue: Catalogue
) -> None:
    await publish(provisioned, BODY, metadata().headers())

    # Applied first, then settled: under load a delivery can be retried, and a message waiting
    # out its redelivery delay is neither pending nor awaiting an ack.
    await eventually(lambda: applied_rows_are(pool, 1))
    await eventually(lambda: consumer_settled(provisioned, running.consumer))
    assert await applied_rows(pool) == 1
    assert await open_dead_letters(pool) == []


async def test_a_stop_ends_a_waiting_poll_at_once_and_loses_nothing(
    pool: Pool, provisioned: Bus, catalogue: Catalogue
) -> None:
    """A consumer on a quiet stream waits in a poll of a second; a shutdown does not wait it
    out, and an event published meanwhile reaches the consumer's next run."""
    first = Consumer(
        pool, provisioned, subscription(catalogue), batch_size=8, max_deliver=3, ack_wait=2
    )
    await first.ensure()
    run = Running(first)

    async def polling() -> bool:
        info = await provisioned.js.consumer_info(provisioned.stream("CONTENT"), first.durable)
        return (info.num_waiting or 0) > 0

    await eventually(polling)
    run.stop.set()
    # Half the poll's second: the stop cancelled the poll rather than waiting for it.
    await asyncio.wait_for(run.task, 0.5)

    await publish(provisioned, BODY, metadata().headers())
    again = Running(
        Consumer(
            pool, provisioned, subscription(catalogue), batch_size=8, max_deliver=3, ack_wait=2
        )
    )
    try:
        await eventually(lambda: applied_rows_are(pool, 1))
    finally:
        await again.close()


async def test_a_redelivered_event_is_applied_only_once(
    pool: Pool, provisioned: Bus, running: Running, catalogue: Catalogue
) -> None:
    meta = metadata()
    headers = meta.headers()
    await publish(provisioned, BODY, headers)
    # The same event again under another Nats-Msg-Id: JetStream cannot dedupe it, the inbox must.
    await publish(provisioned, BODY, {**headers, "Nats-Msg-Id": f"{meta.id}-again"})

    await eventually(lambda: consumer_settled(provisioned, running.consumer))
    assert await applied_rows(pool) == 1
    assert catalogue.calls == 1


async def test_a_consumer_that_fails_before_ack_gets_the_event_again_and_applies_it_once(
    pool: Pool, provisioned: Bus, running: Running, catalogue: Catalogue
) -> None:
    catalogue.fail_times = 1

    await publish(provisioned, BODY, metadata().headers())

    # The failed delivery waits out its redelivery delay, neither pending nor awaiting an ack:
    # "settled" means something only once the second delivery has applied it.
    await eventually(lambda: applied_rows_are(pool, 1), timeout=15)
    await eventually(lambda: consumer_settled(provisioned, running.consumer), timeout=15)
    assert catalogue.calls == 2
    assert await applied_rows(pool) == 1
    assert await open_dead_letters(pool) == []


async def test_a_message_failing_every_time_becomes_a_dead_letter_after_max_deliver(
    pool: Pool, provisioned: Bus, running: Running, catalogue: Catalogue
) -> None:
    catalogue.fail_times = 1_000
    meta = metadata()

    await publish(provisioned, BODY, meta.headers())

    letters = await eventually(lambda: open_dead_letters(pool), timeout=20)
    assert catalogue.calls == 3
    assert [(d.event_id, d.attempts, d.subject) for d in letters] == [(meta.id, 3, SUBJECT)]
    assert letters[0].error == "RuntimeError: handler bug"
    assert running.reasons == ["failed"]
    assert await applied_rows(pool) == 0
    await eventually(lambda: consumer_settled(provisioned, running.consumer))

    # The operator fixes the cause and replays: applied once, and only once.
    catalogue.fail_times = 0
    subs = {running.consumer.durable: running.consumer.sub}
    assert await replay_dead_letter(pool, subs, letters[0].id) is Outcome.APPLIED
    assert await applied_rows(pool) == 1
    assert await open_dead_letters(pool) == []
    with pytest.raises(Conflict, match="already replayed"):
        await replay_dead_letter(pool, subs, letters[0].id)


async def test_an_undecodable_message_is_dead_lettered_at_once_with_its_reason(
    pool: Pool, provisioned: Bus, running: Running, catalogue: Catalogue
) -> None:
    await publish(provisioned, b'{"type": "content_published", "slug": 7}', metadata().headers())

    letters = await eventually(lambda: open_dead_letters(pool))
    assert letters[0].attempts == 1
    assert letters[0].error == "undecodable message: Expected `str`, got `int` - at `$.slug`"
    assert running.reasons == ["undecodable"]
    assert catalogue.calls == 0


async def test_a_large_message_is_dead_lettered_truncated_with_its_size_and_hash(
    pool: Pool, provisioned: Bus, running: Running, catalogue: Catalogue
) -> None:
    body = b'{"type": "content_published", "slug": 7, "padding": "' + b"x" * 300_000 + b'"}'
    await publish(provisioned, body, metadata().headers())

    letters = await eventually(lambda: open_dead_letters(pool))
    letter = letters[0]
    assert len(letter.payload.encode()) == dead_letters.DEFAULT_MAX_PAYLOAD
    assert body.decode().startswith(letter.payload)
    assert (letter.payload_size, letter.payload_truncated) == (len(body), True)
    assert letter.payload_sha256 == hashlib.sha256(body).hexdigest()
    stored = await pool.fetchval("SELECT octet_length(payload) FROM dead_letters")
    assert stored == dead_letters.DEFAULT_MAX_PAYLOAD
    # Only a start is kept: there is nothing whole to apply again.
    with pytest.raises(Conflict, match="larger than the dead-letter cap"):
        await replay_dead_letter(pool, {running.consumer.durable: running.consumer.sub}, letter.id)


async def test_a_message_without_cloudevents_headers_is_dead_lettered(
    pool: Pool, provisioned: Bus, running: Running
) -> None:
    await publish(provisioned, BODY, {"Nats-Msg-Id": "x1"})

    letters = await eventually(lambda: open_dead_letters(pool))
    assert "missing CloudEvents header(s): ce-id, ce-type, ce-source, ce-time" in letters[0].error
    assert running.reasons == ["undecodable"]


async def test_a_domain_refusal_is_dead_lettered_without_retrying_and_changes_nothing(
    pool: Pool, provisioned: Bus, running: Running, catalogue: Catalogue
) -> None:
    catalogue.refuse = True

    await publish(provisioned, BODY, metadata().headers())

    letters = await eventually(lambda: open_dead_letters(pool))
    assert letters[0].error == "Conflict: slug mitral-valve-insufficiency is reserved"
    assert running.reasons == ["rejected"]
    assert catalogue.calls == 1
    assert await applied_rows(pool) == 0
    inbox = await pool.fetchval("SELECT count(*) FROM inbox")
    assert inbox == 0, "a refused event must not be recorded as applied"


async def test_replaying_an_unknown_dead_letter_is_not_found(pool: Pool) -> None:
    with pytest.raises(NotFound):
        await replay_dead_letter(pool, {}, 12345)


async def test_a_message_whose_ce_type_contradicts_its_body_is_dead_lettered(
    pool: Pool, provisioned: Bus, running: Running, catalogue: Catalogue
) -> None:
    headers = {**metadata().headers(), "ce-type": "org.carebridge.content_unpublished.v1"}

    await publish(provisioned, BODY, headers)

    letters = await eventually(lambda: open_dead_letters(pool))
    assert letters[0].error == (
        "ce-type org.carebridge.content_unpublished.v1 does not match the body's type "
        "org.carebridge.content_published.v1"
    )
    assert catalogue.calls == 0


async def test_a_consumer_whose_durable_was_deleted_binds_again_and_carries_on(
    pool: Pool, provisioned: Bus, running: Running, catalogue: Catalogue
) -> None:
    await provisioned.js.delete_consumer(provisioned.stream("CONTENT"), running.consumer.durable)

    await publish(provisioned, BODY, metadata().headers())

    await eventually(lambda: applied_rows_are(pool, 1), timeout=15)


async def test_a_dead_letter_stored_twice_for_one_event_stays_one_row(pool: Pool) -> None:
    async with pool.acquire() as conn:
        for attempt in (3, 4):
            await dead_letters.insert_dead_letter(
                conn,
                consumer="c",
                subject="content.condition.published.v1",
                event_id="e-1",
                headers={},
                payload=b"{}",
                error="RuntimeError: handler bug",
                attempts=attempt,
            )

    letters = await open_dead_letters(pool)

    assert [(d.event_id, d.attempts) for d in letters] == [("e-1", 4)]


async def applied_rows_are(pool: Pool, expected: int) -> bool:
    return await applied_rows(pool) == expected


async def test_the_durable_redelivers_unacknowledged_messages_later_each_time(
    provisioned: Bus, running: Running
) -> None:
    info = await provisioned.js.consumer_info(
        provisioned.stream("CONTENT"), running.consumer.durable
    )

    # ack_wait 5 s, then doubling up to the 10-minute cap; the inbox, not JetStream, decides
    # when a message is dead.
    assert info.config.backoff == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0]
    assert info.config.max_deliver == -1
