"""The notifications table: one function per statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from services.notifications.domain.model import Param, Pending, Planned, Status
from services.runtime.core.db import Connection

_params = msgspec.json.Decoder(dict[str, Param])


class NotificationRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str
    audience: str
    inquiry_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    status: Status
    attempts: int
    channel: str | None
    last_error: str | None
    send_after: datetime
    created_at: datetime
    sent_at: datetime | None


def details_aad(notification_id: uuid.UUID | str) -> bytes:
    return f"notification:{notification_id}:details".encode()


async def insert(
    conn: Connection,
    planned: Planned,
    now: datetime,
    *,
    notification_id: uuid.UUID | None = None,
    sealed_details: bytes | None = None,
) -> uuid.UUID:
    """`sealed_details`, when given, was sealed for `notification_id` (see `details_aad`)."""
    notification_id = notification_id or uuid.uuid4()
    await conn.execute(
        """INSERT INTO notifications
               (id, kind, audience, inquiry_id, booking_id, params, key, send_after,
                created_at, updated_at, sealed_details)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)""",
        notification_id,
        planned.kind,
        planned.audience,
        None if planned.inquiry_id is None else uuid.UUID(planned.inquiry_id),
        None if planned.booking_id is None else uuid.UUID(planned.booking_id),
        msgspec.json.encode(planned.params).decode(),
        planned.key,
        planned.send_after,
        now,
        sealed_details,
    )
    return notification_id


async def cancel_keys(conn: Connection, keys: tuple[str, ...], now: datetime) -> None:
    await conn.execute(
        """UPDATE notifications SET status = 'cancelled', key = NULL, updated_at = $2
           WHERE status = 'pending' AND key = ANY($1::text[])""",
        list(keys),
        now,
    )


async def cancel_case(conn: Connection, inquiry_id: str, now: datetime, reason: str) -> int:
    result = await conn.execute(
        """UPDATE notifications
           SET status = 'cancelled', key = NULL, last_error = $3, updated_at = $2
           WHERE status = 'pending' AND inquiry_id = $1""",
        uuid.UUID(inquiry_id),
        now,
        reason,
    )
    return int(result.split()[-1])


async def erase_case(conn: Connection, inquiry_id: str, now: datetime) -> None:
    """What the case's messages said goes too; that they existed, and when, stays."""
    await conn.execute(
        """UPDATE notifications SET params = '{}', sealed_reply = NULL, sealed_details = NULL,
                                    updated_at = $2
           WHERE inquiry_id = $1
             AND (params <> '{}' OR sealed_reply IS NOT NULL OR sealed_details IS NOT NULL)""",
        uuid.UUID(inquiry_id),
        now,
    )


class PatientMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message to the patient as the table keeps it, its sealed parts still sealed."""

    id: uuid.UUID
    kind: str
    booking_id: uuid.UUID | None
    status: Status
    channel: str | None
    attempts: int
    last_error: str | None
    params: str
    sealed_details: bytes | None
    sealed_reply: bytes | None
    created_at: datetime
    sent_at: datetime | None


async def patient_messages_of_case(conn: Connection, inquiry_id: str) -> list[PatientMessage]:
    """Every message to the patient about the case, oldest first (its export)."""
    rows = await conn.fetch(
        """SELECT id, kind, booking_id, status, channel, attempts, last_error, params::text,
                  sealed_details, sealed_reply, created_at, sent_at
           FROM notifications
           WHERE inquiry_id = $1 AND audience = 'patient'
           ORDER BY created_at, id""",
        uuid.UUID(inquiry_id),
    )
    return [msgspec.convert(dict(r.items()), PatientMessage) for r in rows]


async def claim_due(
    conn: Connection, now: datetime, lease_until: datetime, limit: int
) -> list[Pending]:
    """The due messages no other replica holds, leased to this one until `lease_until`: if it
    dies mid-send, another takes them after the lease (same id, same Message-ID)."""
    rows = await conn.fetch(
        """WITH due AS (
               SELECT id FROM notifications
               WHERE status = 'pending' AND send_after <= $1
               ORDER BY send_after LIMIT $3
               FOR UPDATE SKIP LOCKED
           )
           UPDATE notifications n
           SET attempts = n.attempts + 1, send_after = $2, updated_at = $1
           FROM due WHERE n.id = due.id
           RETURNING n.id, n.kind, n.audience, n.inquiry_id, n.booking_id, n.params,
                     n.attempts, n.sealed_details, n.channel""",
        now,
        lease_until,
        limit,
    )
    return [_pending(r) for r in rows]


def _pending(r: Any) -> Pending:
    return Pending(
        id=str(r["id"]),
        kind=r["kind"],
        audience=r["audience"],
        inquiry_id=None if r["inquiry_id"] is None else str(r["inquiry_id"]),
        booking_id=None if r["booking_id"] is None else str(r["booking_id"]),
        params=_params.decode(r["params"]),
        attempts=r["attempts"],
        sealed_details=r["sealed_details"],
        delivered=tuple(r["channel"].split(",")) if r["channel"] else (),
    )


async def lock_pending(conn: Connection, notification_id: str) -> Pending | None:
    """The message, if still pending (an erasure may have cancelled it meanwhile)."""
    row = await conn.fetchrow(
        """SELECT id, kind, audience, inquiry_id, booking_id, params, attempts, sealed_details,
                  channel
           FROM notifications WHERE id = $1 AND status = 'pending' FOR UPDATE""",
        uuid.UUID(notification_id),
    )
    return None if row is None else _pending(row)


async def lock_sent(conn: Connection, notification_id: str) -> Pending | None:
    """The message, if it went out (a bounce can only be about one that did)."""
    row = await conn.fetchrow(
        """SELECT id, kind, audience, inquiry_id, booking_id, params, attempts, sealed_details,
                  channel
           FROM notifications WHERE id = $1 AND status = 'sent' FOR UPDATE""",
        uuid.UUID(notification_id),
    )
    return None if row is None else _pending(row)


def reply_aad(notification_id: str) -> bytes:
    return f"notification:{notification_id}:reply".encode()


async def mark_delivered(conn: Connection, notification_id: str, channel: str) -> None:
    """A channel took the message: `channel` lists the channels it went out on, so a retry
    after another channel's failure does not send it on this one again."""
    await conn.execute(
        """UPDATE notifications
           SET channel = CASE WHEN channel IS NULL OR channel = '' THEN $2
                              ELSE channel || ',' || $2 END
           WHERE id = $1""",
        uuid.UUID(notification_id),
        channel,
    )


async def settle(
    conn: Connection,
    notification_id: str,
    *,
    status: Status,
    now: datetime,
    channel: str | None = None,
    error: str | None = None,
    reply: bytes | None = None,
    send_after: datetime | None = None,
    any_status: bool = False,
) -> None:
    """Record an attempt's outcome: sent, failed or cancelled for good, or pending again
    (with the retry's time). Only a pending message changes, unless `any_status`: a message
    that went out is recorded sent even if an erasure cancelled it while it was on its way."""
    await conn.execute(
        """UPDATE notifications
           SET status = $2, channel = coalesce($3, channel), last_error = $4,
               sealed_reply = $5, send_after = coalesce($6, send_after), updated_at = $7,
               sent_at = CASE WHEN $2 = 'sent' THEN $7 ELSE sent_at END,
               key = CASE WHEN $2 = 'pending' THEN key ELSE NULL END
           WHERE id = $1 AND (status = 'pending' OR $8)""",
        uuid.UUID(notification_id),
        status,
        channel,
        error,
        reply,
        send_after,
        now,
        any_status,
    )


async def listing(
    conn: Connection, *, status: str | None, inquiry_id: uuid.UUID | None, limit: int
) -> list[NotificationRow]:
    rows = await conn.fetch(
        """SELECT id, kind, audience, inquiry_id, booking_id, status, attempts, channel,
                  last_error, send_after, created_at, sent_at
           FROM notifications
           WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR inquiry_id = $2)
           ORDER BY created_at DESC, id LIMIT $3""",
        status,
        inquiry_id,
        limit,
    )
    return [msgspec.convert(dict(r.items()), NotificationRow) for r in rows]
