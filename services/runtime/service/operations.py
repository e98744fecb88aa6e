"""Routes every service serves for operators and orchestrators: health, dead letters, audit;
and the metrics page, served on a port of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, QueryParameter
from prometheus_client import generate_latest

from services.runtime.access import audit
from services.runtime.access.staff import staff_only
from services.runtime.core.errors import BadRequest, FieldProblem
from services.runtime.http.parameters import BIGINT_MAX, PositiveBigint
from services.runtime.messaging import dead_letters, outbox
from services.runtime.messaging.inbox import Outcome, replay_dead_letter
from services.runtime.service.running import Runtime, RuntimeDependency


class HealthCheck(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    checks: dict[str, str] = {}


class ReplayResult(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    outcome: str


_CHECK_TIMEOUT = 2.0


class HealthController(Controller):
    path = "/health"
    tags = ("operations",)

    @get("/live", summary="The process is up", cache=False)
    async def check_liveness(self) -> HealthCheck:
        return HealthCheck(status="ok")

    @get(
        "/ready",
        summary="PostgreSQL and NATS answer and the service is not shutting down",
        description=(
            "200 while the service can do its work. A service that needs NATS for it (the "
            "booking services) is 503 without NATS; one that serves reads from PostgreSQL "
            "alone (content) stays 200 with status `degraded` and its NATS check `degraded`: "
            "its caches are not invalidated by events until NATS returns."
        ),
        responses={503: ResponseSpec(data_container=HealthCheck, description="Not ready")},
        cache=False,
    )
    async def check_readiness(self, runtime: RuntimeDependency) -> Response[HealthCheck]:
        needs_nats = runtime.definition.ready_needs_nats
        nats = "ok" if runtime.bus.connected else "disconnected" if needs_nats else "degraded"
        checks = {
            "postgres": await _check(runtime.pool.fetchval("SELECT 1")),
            "nats": nats,
            "lifecycle": "ok" if runtime.accepting else "shutting down",
        }
        healthy = all(v in ("ok", "degraded") for v in checks.values())
        status = "unavailable" if not healthy else "degraded" if nats == "degraded" else "ok"
        return Response(
            HealthCheck(status=status, checks=checks), status_code=200 if healthy else 503
        )


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, _CHECK_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
        return f"failed: {type(exc).__name__}"
    return "ok"


async def metrics_page(runtime: Runtime) -> bytes:
    """The Prometheus page, served on the metrics port (metrics_listener.py). Gauges that need
    a query are refreshed at scrape time, so an idle service costs nothing."""
    async with runtime.pool.acquire() as conn:
        runtime.metrics.outbox_backlog.set(await outbox.count_backlog(conn))
        runtime.metrics.outbox_oldest_age.set(await outbox.oldest_age(conn))
        open_letters = await dead_letters.count_open_by_consumer(conn)
    for consumer in runtime.consumers:
        runtime.metrics.dead_letters.labels(consumer=consumer.durable).set(
            open_letters.get(consumer.durable, 0)
        )
        lag = await consumer.lag()
        if lag is not None:
            runtime.metrics.consumer_pending.labels(consumer=consumer.durable).set(lag)
    runtime.metrics.fold_tallies()
    return generate_latest(runtime.metrics.registry)


class DeadLetterController(Controller):
    path = "/admin/dead-letters"
    tags = ("operations",)

    @get("/", summary="List dead letters", **staff_only("admin"))
    async def list_dead_letters(
        self,
        runtime: RuntimeDependency,
        include_replayed: FromQuery[bool] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> list[dead_letters.DeadLetter]:
        async with runtime.pool.acquire() as conn:
            return await dead_letters.list_dead_letters(
                conn, include_replayed=include_replayed, limit=limit
            )

    @post(
        "/{dead_letter_id:int}/replay",
        summary="Apply a dead letter again through its consumer",
        status_code=200,
        **staff_only("admin"),
    )
    async def replay_dead_letter(
        self, runtime: RuntimeDependency, dead_letter_id: PositiveBigint
    ) -> ReplayResult:
        subscriptions = {c.durable: c.sub for c in runtime.consumers}
        outcome: Outcome = await replay_dead_letter(runtime.pool, subscriptions, dead_letter_id)
        return ReplayResult(id=dead_letter_id, outcome=outcome.value)


class AuditController(Controller):
    path = "/admin/audit"
    tags = ("operations",)

    @get(
        "/",
        summary="Who changed what and who read whose data: staff requests, newest first",
        description=(
            "Every request with a staff token that was not a read, and every staff read of "
            "decrypted personal or health data, refused ones included; each names the cases "
            "(inquiry ids) it concerns. Filter by case, person, route template and time "
            "(since inclusive, until exclusive); page with before_id = the last id seen."
        ),
        **staff_only("admin"),
    )
    async def list_audit_entries(
        self,
        runtime: RuntimeDependency,
        person: FromQuery[str | None] = None,
        route: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        before_id: Annotated[int | None, QueryParameter(ge=1, le=BIGINT_MAX)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        case: FromQuery[uuid.UUID | None] = None,
        until: FromQuery[datetime | None] = None,
    ) -> list[audit.AuditEntry]:
        if since and until and (since.tzinfo is None) == (until.tzinfo is None) and until <= since:
            raise BadRequest([FieldProblem(field="until", message="must be after since")])
        async with runtime.pool.acquire() as conn:
            return await audit.list_entries(
                conn,
                person=person,
                route=route,
                since=since,
                before_id=before_id,
                limit=limit,
                case=None if case is None else str(case),
                until=until,
            )
