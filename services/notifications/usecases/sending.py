"""The sender: take the due messages, find their recipient, render, send, record.

Once: a message is claimed under a lease (its `send_after` moved past the lease) in a short
transaction, sent outside any transaction, then recorded. A crash between sending and recording
leaves it pending; after the lease it is sent again, with the same Message-ID. A provider error
leaves it pending with a backoff; a permanent refusal, or retries run out, records it failed,
announces `notifications.notification.failed.v1` and writes an alert to on-call, in one
transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from contracts.notifications import (
    Contact,
    ContactChannel,
    ContactLookupFailed,
    ContactUnavailable,
    NotificationFailed,
)
from contracts.registry import NOTIFICATION_FAILED
from services.notifications.delivery.failure import DeliveryFailed
from services.notifications.domain import decisions
from services.notifications.domain.model import Param, Pending, Recipient, Status
from services.notifications.store import notifications as store
from services.notifications.usecases.collaborators import Notifying
from services.runtime.core.db import Connection
from services.runtime.messaging.request_reply import NoAnswer
from services.runtime.privacy.crypto import from_column, to_column

log = structlog.get_logger(__name__)


class _Stop(Exception):
    """Nobody to write to: the message is cancelled, not failed."""


async def send_due(d: Notifying, *, now: datetime, limit: int) -> int:
    """Send what is due, up to `limit` messages; returns how many were taken."""
    async with d.pool.acquire() as conn, conn.transaction():
        claimed = await store.claim_due(conn, now, now + d.retries.lease, limit)
    for message in claimed:
        await send_one(d, message)
    return len(claimed)


async def send_one(d: Notifying, message: Pending) -> None:
    log_ = log.bind(notification_id=message.id, kind=message.kind, attempt=message.attempts)
    try:
        recipient = await _recipient(d, message)
    except _Stop as stop:
        await _settle(d, message, status="cancelled", error=str(stop))
        log_.info("notification cancelled", reason=str(stop))
        return
    except (NoAnswer, _LookupFailed) as exc:
        await _failed_attempt(d, message, DeliveryFailed(permanent=False, summary=str(exc)))
        return
    details = (
        None
        if message.sealed_details is None
        else d.keys.decrypt_json(
            from_column(message.sealed_details),
            aad=store.details_aad(message.id),
            type=dict[str, Param],
        )
    )
    # Only the channels this process can send by (SMS may be off).
    composed = [c for c in decisions.compose(message, recipient, details) if c.channel in d.senders]
    if not composed and not message.delivered:
        await _settle(d, message, status="cancelled", error="no agreed channel")
        return
    for one in composed:
        try:
            await d.senders[one.channel](one, d.templates.render(one))
        except DeliveryFailed as failure:
            await _failed_attempt(d, message, failure, channel=one.channel)
            return
        async with d.pool.acquire() as conn:
            await store.mark_delivered(conn, message.id, one.channel)
        log_.info("notification sent", channel=one.channel)
    await _settle(d, message, status="sent", any_status=True)


class _LookupFailed(Exception):
    pass


async def _recipient(d: Notifying, message: Pending) -> Recipient:
    if message.audience == "staff":
        # A message for one staff member (an escalated support case) goes to them alone.
        named = message.params.get(decisions.STAFF_EMAIL_PARAM)
        address = named if isinstance(named, str) and named else d.oncall_email
        return Recipient(address=address, language=d.staff_language)
    if message.inquiry_id is None:
        raise _Stop("no case to write to")
    reissue = decisions.token_reissue_of(message)
    reply = await d.contact(message.inquiry_id, reissue)
    match reply:
        case Contact():
            if reissue is not None and reply.access_token is None:
                # A newer reissue replaced it, or it is no longer fresh: it opens nothing.
                raise _Stop("reissued token no longer current")
            return Recipient(
                address=reply.email,
                phone=reply.phone,
                language=reply.language,
                channels=reply.channels,
                access_token=reply.access_token if reissue is not None else None,
            )
        case ContactUnavailable():
            raise _Stop(f"contact {reply.reason}")
        case ContactLookupFailed():
            raise _LookupFailed("contact lookup failed")


async def _failed_attempt(
    d: Notifying, message: Pending, failure: DeliveryFailed, *, channel: ContactChannel = "email"
) -> None:
    now = datetime.now(UTC)
    if not failure.permanent and message.attempts < d.retries.max_attempts:
        delay = decisions.retry_delay(
            message.attempts,
            base=d.retries.base.total_seconds(),
            cap=d.retries.cap.total_seconds(),
        )
        await _settle(
            d,
            message,
            status="pending",
            error=failure.summary,
            reply=failure.reply,
            send_after=now + delay,
        )
        log.warning(
            "notification will be retried",
            notification_id=message.id,
            attempt=message.attempts,
            error=failure.summary,
            retry_in=delay.total_seconds(),
        )
        return
    reason = (
        failure.summary
        if failure.permanent
        else f"gave up after {message.attempts} attempts: {failure.summary}"
    )
    async with d.pool.acquire() as conn, conn.transaction():
        if await store.lock_pending(conn, message.id) is None:
            return  # cancelled meanwhile (an erasure): nothing to alert about
        await record_failure(
            conn, d, message, reason=reason, reply=failure.reply, channel=channel, now=now
        )
    log.error("notification failed", notification_id=message.id, error=reason)


async def record_failure(
    conn: Connection,
    d: Notifying,
    message: Pending,
    *,
    reason: str,
    reply: str,
    channel: ContactChannel,
    now: datetime,
) -> None:
    """In the caller's transaction, the message locked: failed for good, announced, and on-call
    told (unless it was itself such an alert)."""
    await store.settle(
        conn,
        message.id,
        status="failed",
        now=now,
        error=reason,
        reply=_sealed(d, message, reply),
        any_status=True,
    )
    await d.outbox.emit(
        conn,
        NOTIFICATION_FAILED.address,
        NotificationFailed(
            notification_id=message.id,
            kind=message.kind,
            audience=message.audience,
            channel=channel,
            inquiry_id=message.inquiry_id,
            booking_id=message.booking_id,
            attempts=message.attempts,
            reason=reason,
            failed_at=now,
        ),
    )
    alert = decisions.failure_alert(message, reason, now)
    if alert is not None:
        await store.insert(conn, alert, now)


async def _settle(
    d: Notifying,
    message: Pending,
    *,
    status: Status,
    error: str | None = None,
    reply: str = "",
    channel: str | None = None,
    send_after: datetime | None = None,
    any_status: bool = False,
) -> None:
    async with d.pool.acquire() as conn:
        await store.settle(
            conn,
            message.id,
            status=status,
            now=datetime.now(UTC),
            channel=channel,
            error=error,
            reply=_sealed(d, message, reply),
            send_after=send_after,
            any_status=any_status,
        )
    if status in _FINAL:
        d.outcomes.outcome("notification", status)


# What a message ends as; a retry put off for later is not an outcome yet.
_FINAL = frozenset({"sent", "failed", "cancelled"})


def _sealed(d: Notifying, message: Pending, reply: str) -> bytes | None:
    if not reply:
        return None
    return to_column(d.keys.encrypt(reply.encode(), aad=store.reply_aad(message.id)))
