"""The doors that are not HTTP: facts that open cases (a partner's support request forwarded
by logistics, an unassigned booking, a patient we could not reach), logistics' answers to a
case's request for an interpreter (written on its timeline), and erasures of threads, each
decoded, handed to one use case and left to the inbox to settle; the escalation loop; and the
figures for /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from contracts.envelope import Metadata
from contracts.exports import CaseExportFailed, case_export_request_decoder
from contracts.inquiries import InquiryEvent, PersonalDataErased, inquiry_event_decoder
from contracts.logistics import LogisticsEvent, logistics_event_decoder
from contracts.notifications import NotificationFailed, notification_event_decoder
from contracts.registry import (
    INQUIRY_ERASED,
    INTERPRETER_REQUEST_ANSWERED,
    NOTIFICATION_FAILED,
    OPERATOR_ALERT,
    PARTNER_SUPPORT_REQUESTED,
    SUPPORT_CASE_EXPORT,
)
from services.runtime.core.db import Connection
from services.runtime.core.errors import Invalid
from services.runtime.core.pacing import wait_any
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.inbox import Subscription
from services.runtime.messaging.request_reply import answer
from services.support import usecases
from services.support.usecases import Desk
from services.support.usecases.export import export_case

Loop = Callable[[asyncio.Event], Awaitable[None]]
# Seconds the escalation loop waits at least between scans that found nothing to take.
MIN_WAIT = 0.02


def subscriptions(d: Desk) -> tuple[Subscription[Any], ...]:
    async def logistics_fact(conn: Connection, event: LogisticsEvent, _: Metadata) -> None:
        await usecases.apply_logistics_event(conn, d, event, datetime.now(UTC))

    async def notification_failed(conn: Connection, event: NotificationFailed, _: Metadata) -> None:
        await usecases.apply_notification_failed(conn, d, event, datetime.now(UTC))

    async def erased(conn: Connection, event: InquiryEvent, _: Metadata) -> None:
        if not isinstance(event, PersonalDataErased):
            raise Invalid.single("type", f"{type(event).__name__} is not handled here")
        await usecases.apply_erasure(conn, event, datetime.now(UTC))

    return (
        Subscription(
            name="support-logistics",
            channels=(PARTNER_SUPPORT_REQUESTED, OPERATOR_ALERT, INTERPRETER_REQUEST_ANSWERED),
            decoder=logistics_event_decoder,
            handler=logistics_fact,
        ),
        Subscription(
            name="support-notification-failures",
            channels=(NOTIFICATION_FAILED,),
            decoder=notification_event_decoder,
            handler=notification_failed,
        ),
        Subscription(
            name="support-erasure",
            channels=(INQUIRY_ERASED,),
            decoder=inquiry_event_decoder,
            handler=erased,
        ),
    )


def escalations(d: Desk, *, interval: float, batch: int) -> Loop:
    """Deadlines live in the cases table, so they survive restarts; replicas share them through
    SKIP LOCKED. Sleeps until the next deadline, and never longer than `interval` seconds (a new
    case, or another replica, may bring an earlier one); at once again after a full batch."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            taken = await usecases.escalate_due(d, now=datetime.now(UTC), limit=batch)
            if taken >= batch:
                continue
            upcoming = await usecases.next_deadline(d)
            wait = interval
            if upcoming is not None:
                ahead = (upcoming - datetime.now(UTC)).total_seconds()
                # Not below MIN_WAIT: a due case another replica holds must not spin this loop.
                wait = min(interval, max(MIN_WAIT, ahead))
            await wait_any(stop, timeout=wait)

    return run


def case_exports(d: Desk, bus: Bus) -> Loop:
    """Support's part of a case's export, asked for by inquiries."""

    async def run(stop: asyncio.Event) -> None:
        await answer(
            bus,
            SUPPORT_CASE_EXPORT,
            case_export_request_decoder,
            lambda request: export_case(d.pool, d.keys, request),
            lambda reason: CaseExportFailed(reason=reason),
            stop,
        )

    return run


class Figures:
    """The desk's figures on /metrics, registered when the app is made (so its documents and
    dashboards know them) and set by the `figures` loop."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("priority", "quantile")
        self.acknowledge = Gauge(
            "support_time_to_acknowledge_seconds",
            "Time from opening to acknowledgement, per priority (p50, p95)",
            labels,
            registry=registry,
        )
        self.resolve = Gauge(
            "support_time_to_resolve_seconds",
            "Time from opening to resolution, per priority (p50, p95)",
            labels,
            registry=registry,
        )
        self.breaches = Gauge(
            "support_breaches",
            "Cases that missed a target, per priority and target",
            ("priority", "target"),
            registry=registry,
        )


def figures(d: Desk, shown: Figures, *, interval: float) -> Loop:
    """Read from the cases every `interval` seconds: one query over every replica's cases, so
    each replica shows the desk's figures, not its own."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            for row in await usecases.stats(d.pool):
                for quantile, ack, res in (
                    ("0.5", row.acknowledge_p50_seconds, row.resolve_p50_seconds),
                    ("0.95", row.acknowledge_p95_seconds, row.resolve_p95_seconds),
                ):
                    shown.acknowledge.labels(row.priority, quantile).set(ack or 0.0)
                    shown.resolve.labels(row.priority, quantile).set(res or 0.0)
                shown.breaches.labels(row.priority, "acknowledge").set(row.acknowledge_breaches)
                shown.breaches.labels(row.priority, "resolve").set(row.resolve_breaches)
            await wait_any(stop, timeout=interval)

    return run
