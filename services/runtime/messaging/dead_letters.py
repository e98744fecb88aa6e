"""The dead-letter store: messages a consumer could not apply, kept with the reason so an
operator can list them and replay them once the cause is fixed.

A message can name a patient (a booking request, a partner's note), so erasing a patient empties
every dead letter that mentions one of the patient's ids (`erase_mentioning`): the row stays, with
its subject, headers and reason, for the operator's count, and can no longer be replayed. The
reason never quotes the message (inbox.py keeps exception texts to types and paths).

A message larger than the service's cap (`DEAD_LETTER_MAX_PAYLOAD`) is kept truncated, with the
size and SHA-256 of the whole: enough to tell what arrived, not enough to replay it."""

from __future__ import annotations

import hashlib
from datetime import datetime

import asyncpg
import msgspec

from services.runtime.core.db import Connection


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    consumer: str
    subject: str
    event_id: str | None
    headers: dict[str, str]
    payload: str
    error: str
    attempts: int
    created_at: datetime
    replayed_at: datetime | None
    payload_erased_at: datetime | None = None
    # The whole message's size and SHA-256 (hex); `payload` holds its first bytes only when
    # `payload_truncated`. None for letters stored before sizes were kept.
    payload_size: int | None = None
    payload_sha256: str | None = None
    payload_truncated: bool = False


# Bytes of a message a dead letter keeps by default: every event we or a partner publish fits
# many times over; anything larger is not a message a consumer could apply anyway.
DEFAULT_MAX_PAYLOAD = 64 * 1024


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """A new dead letter, as it may be announced: no payload, the error's type only."""

    id: int
    consumer: str
    subject: str
    event_id: str | None
    error_type: str
    attempts: int


async def insert_dead_letter(
    conn: Connection,
    *,
    consumer: str,
    subject: str,
    event_id: str | None,
    headers: dict[str, str],
    payload: bytes,
    error: str,
    attempts: int,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
) -> int:
    return (
        await record_dead_letter(
            conn,
            consumer=consumer,
            subject=subject,
            event_id=event_id,
            headers=headers,
            payload=payload,
            error=error,
            attempts=attempts,
            max_payload=max_payload,
        )
    )[0]


async def record_dead_letter(
    conn: Connection,
    *,
    consumer: str,
    subject: str,
    event_id: str | None,
    headers: dict[str, str],
    payload: bytes,
    error: str,
    attempts: int,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
) -> tuple[int, bool]:
    """(its id, whether it is new): the same event dead-lettered again (not yet replayed)
    updates its row and is not news. A payload past `max_payload` is kept truncated, with the
    whole message's size and SHA-256."""
    row = await conn.fetchrow(
        """INSERT INTO dead_letters
               (consumer, subject, event_id, headers, payload, error, attempts,
                payload_size, payload_sha256, payload_truncated)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (consumer, event_id) WHERE event_id IS NOT NULL AND replayed_at IS NULL
           DO UPDATE SET attempts = EXCLUDED.attempts
           RETURNING id, xmax = 0 AS inserted""",
        consumer,
        subject,
        event_id,
        msgspec.json.encode(headers).decode(),
        payload[:max_payload],
        error,
        attempts,
        len(payload),
        hashlib.sha256(payload).digest(),
        len(payload) > max_payload,
    )
    assert row is not None  # noqa: S101 - INSERT … RETURNING always returns its row
    return int(row["id"]), bool(row["inserted"])


_COLUMNS = (
    "id, consumer, subject, event_id, headers, payload, error, attempts, created_at, replayed_at, "
    "payload_erased_at, payload_size, encode(payload_sha256, 'hex') AS payload_sha256, "
    "payload_truncated"
)


async def list_dead_letters(
    conn: Connection, *, include_replayed: bool = False, limit: int = 100
) -> list[DeadLetter]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM dead_letters
            WHERE $1 OR replayed_at IS NULL ORDER BY id LIMIT $2""",
        include_replayed,
        limit,
    )
    return [_dead_letter(r) for r in rows]


class StoredMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A dead letter as it arrived, byte for byte, for replaying."""

    consumer: str
    subject: str
    headers: dict[str, str]
    payload: bytes
    replayed: bool
    erased: bool
    truncated: bool = False


async def lock_for_replay(conn: Connection, dead_letter_id: int) -> StoredMessage | None:
    row = await conn.fetchrow(
        """SELECT consumer, subject, headers, payload, replayed_at IS NOT NULL AS replayed,
                  payload_erased_at IS NOT NULL AS erased, payload_truncated AS truncated
           FROM dead_letters WHERE id = $1 FOR UPDATE""",
        dead_letter_id,
    )
    if row is None:
        return None
    return StoredMessage(
        consumer=row["consumer"],
        subject=row["subject"],
        headers=msgspec.json.decode(row["headers"]),
        payload=bytes(row["payload"]),
        replayed=row["replayed"],
        erased=row["erased"],
        truncated=row["truncated"],
    )


async def mark_replayed(conn: Connection, dead_letter_id: int) -> None:
    await conn.execute("UPDATE dead_letters SET replayed_at = now() WHERE id = $1", dead_letter_id)


async def erase_mentioning(conn: Connection, ids: list[str]) -> int:
    """Empty the message of every dead letter whose bytes hold one of `ids` (a patient's
    inquiry, booking or offer ids: any message about them names one); returns how many."""
    return len(
        await conn.fetch(
            """UPDATE dead_letters SET payload = ''::bytea, payload_erased_at = now()
               WHERE payload_erased_at IS NULL AND EXISTS (
                   SELECT FROM unnest($1::text[]) AS id
                   WHERE position(convert_to(id, 'UTF8') IN payload) > 0)
               RETURNING id""",
            ids,
        )
    )


async def count_open_by_consumer(conn: Connection) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT consumer, count(*) AS n FROM dead_letters WHERE replayed_at IS NULL "
        "GROUP BY consumer"
    )
    return {r["consumer"]: int(r["n"]) for r in rows}


def _dead_letter(row: asyncpg.Record) -> DeadLetter:
    fields = dict(row.items())
    fields["headers"] = msgspec.json.decode(fields["headers"])
    # Shown as text for the operator; replay uses the stored bytes (`lock_for_replay`).
    fields["payload"] = bytes(fields["payload"]).decode("utf-8", errors="replace")
    return msgspec.convert(fields, DeadLetter)
