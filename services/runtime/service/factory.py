"""The one place a service is wired: `create_service_app` turns a service's routes and
subscriptions into a Litestar app whose lifespan owns the pool, the NATS connection, the outbox
relay and the consumers. Services differ only in what they pass in."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import structlog
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, OpenAPI, SecurityScheme

from contracts.operations import DeadLetterRecorded
from contracts.registry import DEAD_LETTERS_RECORDED, STREAMS
from services.runtime.access import consumer_access, staff
from services.runtime.access.api_keys import KeyDirectory
from services.runtime.access.audit import audit_middleware
from services.runtime.access.client_address import ClientAddresses
from services.runtime.access.consumer_access import ReadyAnswers
from services.runtime.access.rate_limit import RateLimiter
from services.runtime.core import tracing
from services.runtime.core.db import Connection, Pool, create_pool
from services.runtime.core.log import configure_logging, event_loop_name
from services.runtime.core.migrate import migrate
from services.runtime.core.outages import TRANSIENT
from services.runtime.core.pacing import Backoff, wait_any
from services.runtime.core.settings import ServiceSettings
from services.runtime.http.access_log import AccessLog
from services.runtime.http.asgi import ServiceApp
from services.runtime.http.docs_ui import docs_ui, get_docs_asset
from services.runtime.http.json_input import JSONRequest
from services.runtime.http.metrics import Metrics
from services.runtime.http.operation_ids import operation_id
from services.runtime.http.problem_docs import document_problems
from services.runtime.http.problems import EXCEPTION_HANDLERS
from services.runtime.http.query_parameters import refuse_unknown_query
from services.runtime.http.request_bodies import document_bodies
from services.runtime.http.request_context import request_context_middleware
from services.runtime.http.tracing import tracing_plugins
from services.runtime.messaging import dead_letters
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.inbox import TRANSIENT_RETRY_CAP, Consumer, DeadLetterHook
from services.runtime.messaging.outbox import Outbox, Relay
from services.runtime.service.api_key_admin import ApiKeyController
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.metrics_listener import bound_port, start_metrics_listener
from services.runtime.service.operations import (
    AuditController,
    DeadLetterController,
    HealthController,
    metrics_page,
)
from services.runtime.service.running import Runtime
from services.runtime.service.serve import DRAIN_SIGNAL
from services.runtime.service.staff_tokens import StaffMeController, StaffTokenController

log = structlog.get_logger(__name__)


async def prepare_database(pool: Pool, definition: ServiceDefinition) -> None:
    async with pool.acquire() as conn:
        for schema, migrations in definition.migrations_by_schema().items():
            await migrate(conn, schema, migrations)


BackgroundLoop = Callable[[Runtime, asyncio.Event], Awaitable[None]]


def announce_dead_letter(service: str, outbox: Outbox) -> DeadLetterHook | None:
    """On-call hears of each new dead letter: `<service>.dead_letter.recorded.v1` through the
    service's own outbox, in the dead letter's transaction (a service without such a channel,
    a test's, announces nothing)."""
    channel = DEAD_LETTERS_RECORDED.get(service)
    if channel is None:
        return None

    async def announce(conn: Connection, recorded: dead_letters.Recorded) -> None:
        await outbox.emit(
            conn,
            channel.address,
            DeadLetterRecorded(
                service=service,
                dead_letter_id=recorded.id,
                consumer=recorded.consumer,
                subject=recorded.subject,
                event_id=recorded.event_id,
                error_type=recorded.error_type[:100],
                attempts=recorded.attempts,
                recorded_at=datetime.now(UTC),
            ),
        )

    return announce


def create_service_app(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    *,
    dependencies: Mapping[str, Provide] | None = None,
    background: Sequence[tuple[str, BackgroundLoop]] = (),
    ready: Callable[[Metrics], ReadyAnswers] | None = None,
    security_schemes: Mapping[str, SecurityScheme] | None = None,
) -> Litestar:
    """`dependencies` are this app instance's own objects for its routes (a cache, a signer);
    `background` are named loops run, supervised, for the app's lifetime (schedulers,
    broadcast listeners), each given the runtime and the stop event. `ready` gives the
    answers sent before routing, by the consumer-access layer: for answers that must not pay
    for the framework (it is given the metrics, to count them).
    `security_schemes` are the service's own ways to authenticate (a patient's token), beside
    the staff tokens and API keys every service knows, so its routes can name them."""
    metrics = Metrics(definition.name)
    access_log = AccessLog(
        enabled=settings.access_log, sample_cached=settings.access_log_sample_cached
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Here, not in the factory: building the app for its OpenAPI document must not touch
        # the process's logging and tracing.
        _configure_process(definition, settings)
        pool = await create_pool(
            settings.database_url,
            schema=definition.schema,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
        )
        bus: Bus | None = None
        metrics_server: asyncio.Server | None = None
        tasks: list[asyncio.Task[None]] = []
        try:
            await prepare_database(pool, definition)
            bus = await Bus.connect(
                settings.nats_url,
                name=definition.name,
                namespace=settings.nats_namespace,
                replicas=settings.nats_stream_replicas,
                max_bytes=settings.nats_stream_max_bytes,
                tls_ca_file=settings.nats_tls_ca_file,
            )
            await bus.provision(STREAMS)
            runtime = Runtime(
                definition=definition,
                settings=settings,
                pool=pool,
                bus=bus,
                outbox=Outbox(
                    source=f"/carebridge/{definition.name}",
                    schema=definition.schema,
                    keys=settings.outbox_keys(),
                ),
                metrics=metrics,
            )
            runtime.consumers = [
                Consumer(
                    pool,
                    bus,
                    sub,
                    batch_size=settings.consumer_batch_size,
                    max_deliver=settings.consumer_max_deliver,
                    ack_wait=settings.consumer_ack_wait,
                    on_outcome=metrics.count_message,
                    dead_letter_max_payload=settings.dead_letter_max_payload,
                    on_dead_letter=announce_dead_letter(definition.name, runtime.outbox),
                    on_dead_lettered=metrics.count_dead_letter,
                )
                for sub in definition.subscriptions(runtime)
            ]
            for consumer in runtime.consumers:
                await consumer.ensure()
            app.state.runtime = runtime
            relay = Relay(
                pool,
                bus,
                schema=definition.schema,
                batch_size=settings.relay_batch_size,
                poll_interval=settings.relay_poll_interval,
                listen_dsn=settings.database_url,
                on_published=metrics.outbox_published.inc,
                on_erase_failed=metrics.stream_copy_erase_failures.inc,
                keys=runtime.outbox.keys,
                on_event=metrics.count_event,
            )
            tasks.append(_supervise("outbox-relay", relay.run, runtime.stop))
            tasks.extend(
                _supervise(f"consumer:{c.durable}", c.run, runtime.stop) for c in runtime.consumers
            )
            tasks.extend(
                _supervise(name, functools.partial(loop, runtime), runtime.stop)
                for name, loop in background
            )
            metrics_server = await _metrics_listener(runtime)
            _listen_for_drain(runtime)
            log.info("service ready", port=settings.port, event_loop=event_loop_name())
            yield
            runtime.accepting = False
            runtime.stop.set()
            await _finish(tasks, settings.shutdown_grace)
        finally:
            _stop_listening_for_drain()
            if metrics_server is not None:
                metrics_server.close()
            for task in tasks:
                task.cancel()
            # Let cancelled loops run their cleanup before their connections go away.
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                if bus is not None:
                    await bus.close()
            finally:
                try:
                    await asyncio.wait_for(pool.close(), settings.shutdown_grace)
                except TimeoutError:
                    log.warning("database connections still busy at shutdown, terminating")
                    pool.terminate()
                _stopped()

    app = ServiceApp(
        route_handlers=[
            HealthController,
            DeadLetterController,
            AuditController,
            StaffTokenController,
            StaffMeController,
            ApiKeyController,
            get_docs_asset,
            *definition.route_handlers,
        ],
        lifespan=[lifespan],
        # Before the handler's parameters are parsed: a misspelt one is named, not ignored.
        before_request=refuse_unknown_query,
        # What the app exports, readable before it runs: the dashboards' and alert rules' test
        # compares the metrics they name with these.
        state=State({"metrics": metrics}),
        dependencies={"runtime": Provide(_runtime, sync_to_thread=False), **(dependencies or {})},
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title=definition.title,
            version=definition.version,
            description=definition.description,
            path="/schema",
            operation_id_creator=operation_id,
            render_plugins=docs_ui(staff.SECURITY_SCHEME),
            components=Components(
                security_schemes={
                    staff.SECURITY_SCHEME: SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="Staff token (roles: admin, editor, coordinator)",
                    ),
                    consumer_access.SECURITY_SCHEME: SecurityScheme(
                        type="apiKey",
                        name="X-API-Key",
                        security_scheme_in="header",
                        description=(
                            "A third-party consumer's API key. Publishable (cb_pk_): for a "
                            "site's pages, accepted only with an Origin the key allows, "
                            "limited per key and per visitor. Secret (cb_sk_): for a site's "
                            "server, refused when an Origin comes with it."
                        ),
                    ),
                    **(security_schemes or {}),
                }
            ),
        ),
        # Logging is configured by configure_logging above; Litestar's own set-up would replace it.
        logging_config=None,
        debug=False,
        request_max_body_size=settings.request_max_body,
        # Every `data:` body is checked (JSON type, depth, repeated keys) before it is decoded.
        request_class=JSONRequest,
        plugins=tracing_plugins() if settings.otel_exporter_otlp_endpoint else [],
        complete_document=_complete_document,
    )
    # Around routing, not inside it (as Litestar's route middleware is), so unmatched paths and
    # methods get request ids and are counted too.
    app.asgi_handler = request_context_middleware(
        metrics.middleware(
            audit_middleware(app.asgi_handler, pool=lambda: _runtime(app.state).pool)
        ),
        access_log,
    )
    # Outermost, so answers served before the framework are limited too.
    app.front = consumer_access.consumer_access(
        app.framework,
        pool=lambda: _runtime(app.state).pool,
        directory=KeyDirectory(settings.api_key_refresh),
        limiter=RateLimiter(),
        anonymous_limit=settings.anonymous_rate_limit,
        visitor_limit=settings.visitor_rate_limit,
        token_limits=consumer_access.TokenLimits(
            staff=settings.staff_rate_limit,
            patient=settings.patient_rate_limit,
            refused=settings.auth_failure_rate_limit,
        ),
        addresses=ClientAddresses(settings.trusted_networks(), settings.forwarded_header),
        on_refused=metrics.count_refusal,
        ready=None if ready is None else ready(metrics),
        access_log=access_log,
    )
    return app


def _configure_process(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    configure_logging(service=definition.name, level=settings.log_level, fmt=settings.log_format)
    tracing.configure(definition.name, settings.otel_exporter_otlp_endpoint)


def _stopped() -> None:
    log.info("service stopped")
    # The spans still buffered go out before the process ends.
    tracing.shutdown()


def _complete_document(app: Litestar, document: OpenAPI) -> None:
    """What the framework leaves out of the OpenAPI document: the problems every route may
    answer, and the bodies of routes that read their own."""
    document_problems(document, staff.SECURITY_SCHEME, consumer_access.SECURITY_SCHEME)
    document_bodies(app, document)


async def _metrics_listener(runtime: Runtime) -> asyncio.Server | None:
    """The metrics page on its own port, when the settings name one."""
    port = runtime.settings.metrics_listen_port
    if not port:
        return None
    server = await start_metrics_listener(
        runtime.settings.host, port, functools.partial(metrics_page, runtime)
    )
    runtime.metrics_port = bound_port(server)
    return server


def _runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def _listen_for_drain(runtime: Runtime) -> None:
    """The server announces a coming stop (serve.py): readiness turns false, all else goes on."""

    def drain() -> None:
        runtime.accepting = False
        log.info("draining: not ready, stopping soon")

    # Signal handlers need the main thread's loop; an app run on another thread (a synchronous
    # test client's) is never sent the notice, so it has nothing to listen for.
    with contextlib.suppress(RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(DRAIN_SIGNAL, drain)


def _stop_listening_for_drain() -> None:
    with contextlib.suppress(RuntimeError, ValueError):
        asyncio.get_running_loop().remove_signal_handler(DRAIN_SIGNAL)


def _supervise(
    name: str, loop: Callable[[asyncio.Event], Awaitable[None]], stop: asyncio.Event
) -> asyncio.Task[None]:
    """Run a background loop until stop; a crash is logged and the loop restarted, never lost."""

    async def supervised() -> None:
        backoff = Backoff(cap=TRANSIENT_RETRY_CAP)
        while not stop.is_set():
            try:
                await loop(stop)
            except asyncio.CancelledError:
                raise
            except TRANSIENT as exc:
                # PostgreSQL or NATS away: expected during a restart, not a crash.
                delay = backoff.next()
                log.warning(
                    "background loop waits for infrastructure",
                    loop=name,
                    error=type(exc).__name__,
                    retry_in=round(delay, 2),
                )
                await wait_any(stop, timeout=delay)
            except Exception:
                log.exception("background loop crashed, restarting", loop=name)
                await asyncio.sleep(1.0)

    return asyncio.create_task(supervised(), name=name)


async def _finish(tasks: list[asyncio.Task[None]], grace: float) -> None:
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
