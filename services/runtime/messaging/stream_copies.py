"""Copies of personal data in JetStream, deleted when the person is erased (GDPR Art. 17).

A stream keeps what was published for its max age (30 days, so an offline partner still finds
its offers), and an offer or a booking request names the traveller. So an event emitted with an
erasure key (the inquiry whose person it names) is remembered by the relay, by the stream and
sequence of its PubAck, in the transaction that publishes it; `retract` marks a key's copies in
the erasing transaction, and the relay deletes them from their streams.

JetStream's per-message delete ($JS.API.STREAM.MSG.DELETE) overwrites the stored message with
random data unless the request sets `no_erase`, which nats-py's `delete_msg` never does: the bytes
are gone from the stream's files, not only hidden. Streams holding such events must allow
deletes (StreamSpec.deny_delete is False for all but CONTENT). A copy a partner already received
is the partner's to erase.

What others published has no erasure key: a partner's reply may quote the traveller in a note.
`scan_for` asks the relay to read a subject (a partner's replies) and delete the messages that
mention one of a person's ids; the subject keeps the read to that partner's messages.

Deleting is the relay's side task: one that keeps failing never holds up publishing. Each failure
is an operator alert (an error log, a metric, and `record_failure` on the waiting rows), and
the relay tries again with a growing pause."""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from nats.errors import Error as NatsError
from nats.js.api import PubAck
from nats.js.errors import APIError

from contracts.registry import STREAMS
from services.runtime.core.db import Connection, Pool
from services.runtime.messaging.bus import Bus

log = structlog.get_logger(__name__)

# JetStream's answers when there is nothing to delete: the message (deleted before, or aged out:
# "no message found", "stream store EOF"), or its stream.
_GONE = {10057, 10059}
# Reading on past the last message of a subject.
_NO_MORE = 10037
# Messages a scan reads per round of the relay: about a second's work (some 600 reads/s on a
# busy 2-core machine), so the relay publishes between rounds of a long scan.
SCAN_STEP = 500

# A copy waiting longer than this after a failure is tried again at the latest this late.
RETRY_CAP = 60.0


class EraseFailed(Exception):
    """A copy could not be deleted (or a subject read) in its stream; says which and why."""


# A copy older than every stream's max age has aged out of its stream: nothing left to delete.
_FORGET_AFTER = max(spec.max_age_seconds for spec in STREAMS)
# How often a relay forgets such copies, in seconds: they only cost a little space meanwhile.
FORGET_EVERY = 3600.0


async def remember(conn: Connection, published: Iterable[tuple[str | None, PubAck]]) -> None:
    """In the relay's publishing transaction: where each event with an erasure key landed. A
    duplicate's PubAck names the first copy, already remembered."""
    copies = [(ack.stream, ack.seq, key) for key, ack in published if key is not None]
    if copies:
        await conn.executemany(
            """INSERT INTO stream_copies (stream, seq, erasure_key) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING""",
            copies,
        )


async def retract(conn: Connection, erasure_key: str) -> None:
    """In the erasing transaction: drop the key's events not yet published and mark the
    published ones for deletion. The outbox rows are deleted first, so a relay publishing them
    right now is waited for and its copies marked."""
    await conn.execute("DELETE FROM outbox WHERE erasure_key = $1", erasure_key)
    await conn.execute(
        """UPDATE stream_copies SET erase_requested_at = now()
           WHERE erasure_key = $1 AND erase_requested_at IS NULL""",
        erasure_key,
    )


async def scan_for(conn: Connection, *, stream: str, subject: str, needles: list[str]) -> None:
    """In the erasing transaction: have the relay delete every message on `subject` (both as
    declared, without the namespace) that holds one of `needles`."""
    await conn.execute(
        "INSERT INTO stream_scans (stream, subject, needles) VALUES ($1, $2, $3)",
        stream,
        subject,
        needles,
    )


async def delete_retracted(pool: Pool, bus: Bus, *, batch: int) -> bool:
    """One round of the relay: delete every marked copy from its stream, `batch` at a time, and
    read up to SCAN_STEP messages of one requested scan, deleting those it finds; True while a
    scan has more to read. Rounds are short so publishing is never held up for long. Safe in
    every replica (SKIP LOCKED); a copy deleted before, or aged out, counts as deleted."""
    async with pool.acquire() as conn:
        # The relay asks on every round: one indexed look when there is nothing to do.
        if not await conn.fetchval(
            """SELECT EXISTS (SELECT FROM stream_copies WHERE erase_requested_at IS NOT NULL)
                   OR EXISTS (SELECT FROM stream_scans)"""
        ):
            return False
    total = 0
    while deleted := await _delete_batch(pool, bus, batch):
        total += deleted
    found, unfinished = await _scan_step(pool, bus)
    if total + found:
        log.info("stream copies erased", count=total + found)
    return unfinished


async def forget_aged(pool: Pool) -> None:
    """Forget the copies that have aged out of every stream, whether or not anyone was erased:
    the relay remembers a copy of every event with an erasure key."""
    await pool.execute(
        "DELETE FROM stream_copies WHERE published_at < now() - make_interval(secs => $1)",
        _FORGET_AFTER,
    )


async def record_failure(pool: Pool, error: str) -> None:
    """On every copy and scan still waiting: that deleting failed again, and why, for the
    operator's list (SELECT … FROM stream_copies WHERE erase_failures > 0)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """UPDATE stream_copies SET erase_failures = erase_failures + 1,
                   last_erase_error = $1, last_erase_failed_at = now()
               WHERE erase_requested_at IS NOT NULL""",
            error,
        )
        await conn.execute(
            """UPDATE stream_scans SET erase_failures = erase_failures + 1,
                   last_erase_error = $1, last_erase_failed_at = now()""",
            error,
        )


async def _delete(bus: Bus, stream: str, seq: int) -> None:
    try:
        await bus.js.delete_msg(stream, seq)
    except APIError as exc:
        if exc.err_code not in _GONE:
            raise EraseFailed(f"deleting message {seq} of {stream}: {exc}") from exc
    except (NatsError, TimeoutError) as exc:
        # A server that refuses the request (no grant for $JS.API.STREAM.MSG.DELETE) only
        # says so on the connection: the request times out.
        raise EraseFailed(
            f"deleting message {seq} of {stream}: {type(exc).__name__} {exc}".strip()
        ) from exc


async def _delete_batch(pool: Pool, bus: Bus, limit: int) -> int:
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """SELECT stream, seq FROM stream_copies WHERE erase_requested_at IS NOT NULL
               ORDER BY erase_requested_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
            limit,
        )
        for row in rows:
            await _delete(bus, row["stream"], row["seq"])
        await conn.executemany(
            "DELETE FROM stream_copies WHERE stream = $1 AND seq = $2",
            [(row["stream"], row["seq"]) for row in rows],
        )
    return len(rows)


async def _scan_step(pool: Pool, bus: Bus) -> tuple[int, bool]:
    """Read on in the oldest requested scan: how many it deleted, and whether to come back at
    once (a scan was read, this one or another may have more)."""
    async with pool.acquire() as conn, conn.transaction():
        scan = await conn.fetchrow(
            """SELECT id, stream, subject, needles, next_seq FROM stream_scans
               ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"""
        )
        if scan is None:
            return 0, False
        stream, subject = bus.stream(scan["stream"]), bus.subject(scan["subject"])
        needles = [n.encode() for n in scan["needles"]]
        deleted, seq = 0, scan["next_seq"]
        for _ in range(SCAN_STEP):
            try:
                msg = await bus.js.get_msg(stream, seq, subject=subject, next=True)
            except APIError as exc:
                if exc.err_code not in _GONE | {_NO_MORE}:
                    raise EraseFailed(f"reading {subject} in {stream}: {exc}") from exc
                await conn.execute("DELETE FROM stream_scans WHERE id = $1", scan["id"])
                return deleted, True
            except (NatsError, TimeoutError) as exc:
                raise EraseFailed(
                    f"reading {subject} in {stream}: {type(exc).__name__} {exc}".strip()
                ) from exc
            at = msg.seq or seq  # the server always names the sequence it found
            if any(n in (msg.data or b"") for n in needles):
                await _delete(bus, stream, at)
                deleted += 1
            seq = at + 1
        await conn.execute("UPDATE stream_scans SET next_seq = $2 WHERE id = $1", scan["id"], seq)
    return deleted, True
