"""Erasing a person's copies outside the service's tables, against real PostgreSQL and JetStream:
events with an erasure key leave the outbox or their stream, scans delete others' messages that
mention the person, and dead letters that mention them are emptied."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec
import pytest
from nats.js.errors import NotFoundError

from contracts.inquiries import PersonalDataErased
from contracts.registry import INQUIRY_ERASED, PARTNER_REPLIES, STREAMS
from services.runtime.core.db import Pool, transaction
from services.runtime.messaging import dead_letters, stream_copies
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.outbox import Outbox, Relay
from services.runtime.privacy.crypto import KeyRing
from tests.support import eventually

SCHEMA = "inquiries"
SUBJECT = INQUIRY_ERASED.subject()


def event(inquiry_id: str) -> PersonalDataErased:
    return PersonalDataErased(inquiry_id=inquiry_id, erased_at=datetime.now(UTC))


@pytest.fixture
async def relay(pool: Pool, provisioned: Bus) -> AsyncIterator[Relay]:
    running = Relay(pool, provisioned, schema=SCHEMA, batch_size=2, poll_interval=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    yield running
    stop.set()
    await task


async def bodies(bus: Bus, stream: str = "INQUIRIES") -> list[bytes]:
    info = await bus.js.stream_info(bus.stream(stream))
    found = []
    for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
        try:
            found.append((await bus.js.get_msg(bus.stream(stream), seq)).data or b"")
        except NotFoundError:
            continue
    return found


async def emit(pool: Pool, outbox: Outbox, inquiry_id: str, key: str | None) -> None:
    async with transaction(pool) as conn:
        await outbox.emit(conn, SUBJECT, event(inquiry_id), erasure_key=key)


async def left(pool: Pool, table: str) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))


async def test_copies_aged_out_of_every_stream_are_forgotten_without_any_erasure(
    pool: Pool, provisioned: Bus
) -> None:
    oldest = max(spec.max_age_seconds for spec in STREAMS)
    async with pool.acquire() as conn:
        await conn.executemany(
            """INSERT INTO stream_copies (stream, seq, erasure_key, published_at)
               VALUES ('INQUIRIES', $1, 'someone', now() - make_interval(secs => $2))""",
            [(1, oldest + 3600), (2, oldest - 3600)],
        )
    running = Relay(pool, provisioned, schema=SCHEMA, batch_size=2, poll_interval=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    try:

        async def forgotten() -> bool:
            async with pool.acquire() as conn:
                return await conn.fetchval("SELECT count(*) FROM stream_copies") == 1

        await eventually(forgotten)
    finally:
        stop.set()
        await task
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT seq FROM stream_copies") == 2


async def test_published_copies_of_a_key_leave_their_stream_and_others_stay(
    pool: Pool, provisioned: Bus, relay: Relay
) -> None:
    outbox = Outbox(source="/tests", schema=SCHEMA)
    mine, other = str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(3):  # more than one batch of the relay
        await emit(pool, outbox, mine, key=mine)
    await emit(pool, outbox, other, key=other)
    await emit(pool, outbox, mine, key=None)

    async def published() -> bool:
        return len(await bodies(provisioned)) == 5

    await eventually(published)
    assert await left(pool, "stream_copies") == 4

    async with transaction(pool) as conn:
        await outbox.retract(conn, mine)

    async def retracted() -> bool:
        return len(await bodies(provisioned)) == 2

    await eventually(retracted)
    remaining = [msgspec.json.decode(b, type=PersonalDataErased) for b in await bodies(provisioned)]
    assert sorted(e.inquiry_id for e in remaining) == sorted([other, mine])
    assert await left(pool, "stream_copies") == 1
    async with transaction(pool) as conn:
        await outbox.retract(conn, mine)  # again: nothing left to do, nothing fails
    # Nothing is marked or scanned for, so no round of the relay can delete anything more.
    assert await left(pool, "stream_copies WHERE erase_requested_at IS NOT NULL") == 0
    assert await left(pool, "stream_scans") == 0
    assert len(await bodies(provisioned)) == 2
    assert await left(pool, "stream_copies") == 1


async def test_a_copy_not_yet_published_leaves_the_outbox(pool: Pool, provisioned: Bus) -> None:
    outbox = Outbox(source="/tests", schema=SCHEMA)
    mine = str(uuid.uuid4())
    await emit(pool, outbox, mine, key=mine)
    await emit(pool, outbox, mine, key=None)

    async with transaction(pool) as conn:
        await outbox.retract(conn, mine)

    assert await left(pool, "outbox") == 1
    assert (
        await Relay(
            pool, provisioned, schema=SCHEMA, batch_size=10, poll_interval=1
        ).publish_pending()
        == 1
    )
    assert await left(pool, "stream_copies") == 0


async def test_an_event_naming_a_person_waits_sealed_and_is_published_open(
    pool: Pool, provisioned: Bus
) -> None:
    keys = KeyRing.from_setting(KeyRing.generate_setting("o1"))
    outbox = Outbox(source="/tests", schema=SCHEMA, keys=keys)
    mine = str(uuid.uuid4())
    await emit(pool, outbox, mine, key=mine)
    await emit(pool, outbox, mine, key=None)

    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT payload FROM outbox ORDER BY seq")
    stored = [bytes(r["payload"]) for r in rows]
    assert [mine.encode() in p for p in stored] == [False, True]
    with pytest.raises(RuntimeError, match="key ring"):
        await Relay(
            pool, provisioned, schema=SCHEMA, batch_size=10, poll_interval=1
        ).publish_pending()
    opened = Relay(pool, provisioned, schema=SCHEMA, batch_size=10, poll_interval=1, keys=keys)
    assert await opened.publish_pending() == 2
    assert [
        msgspec.json.decode(b, type=PersonalDataErased).inquiry_id
        for b in await bodies(provisioned)
    ] == [mine, mine]


async def test_a_scan_deletes_only_the_messages_of_its_subject_that_mention_an_id(
    pool: Pool, provisioned: Bus, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_copies, "SCAN_STEP", 1)  # one message a round: a long scan
    booking, other = str(uuid.uuid4()), str(uuid.uuid4())
    mine = PARTNER_REPLIES.subject(partner_id="rhein-shuttle")
    theirs = PARTNER_REPLIES.subject(partner_id="medilingua")
    for subject, body in [
        (mine, f'{{"booking_id":"{booking}","note":"Olena at exit 3"}}'),
        (mine, f'{{"booking_id":"{other}"}}'),
        (theirs, f'{{"booking_id":"{booking}"}}'),
        (mine, f'{{"offer_of":"{booking}"}}'),
    ]:
        await provisioned.js.publish(provisioned.subject(subject), body.encode())

    async with transaction(pool) as conn:
        await stream_copies.scan_for(
            conn, stream="PARTNER_REPLIES", subject=mine, needles=[booking]
        )
        await Outbox(source="/tests", schema=SCHEMA).retract(conn, booking)

    async def scanned() -> bool:
        return await left(pool, "stream_scans") == 0

    await eventually(scanned)
    kept = await bodies(provisioned, "PARTNER_REPLIES")
    assert kept == [
        f'{{"booking_id":"{other}"}}'.encode(),
        f'{{"booking_id":"{booking}"}}'.encode(),
    ]


async def test_dead_letters_that_mention_an_id_are_emptied_and_no_other(pool: Pool) -> None:
    mine, other = str(uuid.uuid4()), str(uuid.uuid4())
    async with transaction(pool) as conn:
        for n, inquiry in enumerate((mine, other)):
            await dead_letters.insert_dead_letter(
                conn,
                consumer="c",
                subject=SUBJECT,
                event_id=f"e{n}",
                headers={},
                payload=f'{{"inquiry_id":"{inquiry}","name":"Olena"}}'.encode(),
                error="Invalid: status",
                attempts=1,
            )
        assert await dead_letters.erase_mentioning(conn, [mine, "nobody"]) == 1
        assert await dead_letters.erase_mentioning(conn, [mine]) == 0
        letters = await dead_letters.list_dead_letters(conn)

    assert [(d.payload, d.payload_erased_at is not None) for d in letters] == [
        ("", True),
        (f'{{"inquiry_id":"{other}","name":"Olena"}}', False),
    ]
    assert letters[0].error == "Invalid: status"
