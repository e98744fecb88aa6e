"""Prometheus metrics, one registry per app (so several apps can live in one test process)."""

from __future__ import annotations

import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

# What a business outcome is recorded for (`Metrics.outcome`): a bounded set, named once.
OUTCOME_KINDS = ("dispatch", "offer", "notification", "support_case")


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._tallies: list[tuple[Counter, list[int]]] = []
        labels = {"service": service}
        self.http_requests = Counter(
            "http_requests",
            "HTTP requests served, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds",
            "Time to the last byte of an HTTP response",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "outbox_backlog", "Events committed but not yet published", registry=self.registry
        )
        self.outbox_oldest_age = Gauge(
            "outbox_oldest_age_seconds",
            "Seconds the oldest event committed but not yet published has waited (0: none)",
            registry=self.registry,
        )
        self.events_published = Counter(
            "events_published",
            "Events published by the outbox relay, by CloudEvents type (operator alerts, "
            "failed notifications and every other fact a service announces)",
            ["type"],
            registry=self.registry,
        )
        self.outbox_published = Counter(
            "outbox_published", "Events published by the outbox relay", registry=self.registry
        )
        self.stream_copy_erase_failures = Counter(
            "stream_copy_erase_failures",
            "Rounds of the relay that failed to delete copies of erased people's data from "
            "their streams (an alert: the copies wait in stream_copies with the error)",
            registry=self.registry,
        )
        self.consumer_pending = Gauge(
            "consumer_lag",
            "Messages in the stream not yet delivered or not yet acknowledged, per consumer",
            ["consumer"],
            registry=self.registry,
        )
        self.consumer_messages = Counter(
            "consumer_messages",
            "Messages handled per consumer, by outcome "
            "(applied, duplicate, retried, dead_lettered)",
            ["consumer", "outcome"],
            registry=self.registry,
        )
        self.dead_letters = Gauge(
            "dead_letters_open",
            "Dead letters not yet replayed, per consumer",
            ["consumer"],
            registry=self.registry,
        )
        self.webhook_deliveries = Counter(
            "webhook_deliveries",
            "Webhook delivery attempts, by outcome (delivered, failed, refused by the URL "
            "policy, breaker_open, given_up at the message's deadline, dropped: endpoint gone)",
            ["outcome"],
            registry=self.registry,
        )
        self.consumer_refusals = Counter(
            "http_refused",
            "Requests refused before routing, by reason (unknown_key, origin, no_origin, "
            "secret_in_browser, rate_limited)",
            ["reason"],
            registry=self.registry,
        )
        self.dead_letters_recorded = Counter(
            "dead_letters_recorded",
            "Messages set aside as dead letters, per consumer and reason (undecodable, "
            "rejected by the domain, still premature, failed every attempt)",
            ["consumer", "reason"],
            registry=self.registry,
        )
        self.outcomes = Counter(
            "outcomes",
            "Business outcomes by what ended (dispatch: accepted, unassigned; offer: accepted, "
            "declined, expired, withdrawn; notification: sent, failed, cancelled). Offers per "
            "booking: the rate of offer outcomes over the rate of dispatch outcomes",
            ["what", "outcome"],
            registry=self.registry,
        )
        self.outcome_seconds = Histogram(
            "outcome_seconds",
            "Time from start to outcome (dispatch: booking created to a partner's acceptance "
            "or to unassigned; offer: sent to answered; notification: due to sent)",
            ["what", "outcome"],
            buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600),
            registry=self.registry,
        )
        # The Prometheus client's process and runtime series (CPU, memory, open files, GC),
        # as its default registry has them; this registry is the app's own.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        Gauge(
            "service_info",
            "Constant 1, labelled with the service name",
            list(labels),
            registry=self.registry,
        ).labels(**labels).set(1)

    def tally(self, method: str, route: str, status: int) -> list[int]:
        """A plain cell counting requests of a hot path, folded into `http_requests` at each
        scrape (`fold_tallies`): `cell[0] += 1` costs a fraction of a counter's locked
        increment, and both run on the event loop, so no count is lost between them."""
        cell = [0]
        self._tallies.append(
            (self.http_requests.labels(method=method, route=route, status=str(status)), cell)
        )
        return cell

    def fold_tallies(self) -> None:
        for counter, cell in self._tallies:
            counted, cell[0] = cell[0], 0
            counter.inc(counted)

    def count_refusal(self, reason: str) -> None:
        self.consumer_refusals.labels(reason=reason).inc()

    def count_event(self, event_type: str) -> None:
        self.events_published.labels(type=event_type).inc()

    def count_dead_letter(self, consumer: str, reason: str) -> None:
        self.dead_letters_recorded.labels(consumer=consumer, reason=reason).inc()

    def outcome(self, what: str, outcome: str, seconds: float | None = None) -> None:
        """One business outcome (see OUTCOME_KINDS), and how long it took when known."""
        self.outcomes.labels(what=what, outcome=outcome).inc()
        if seconds is not None:
            self.outcome_seconds.labels(what=what, outcome=outcome).observe(max(seconds, 0.0))

    def count_webhook(self, outcome: str) -> None:
        self.webhook_deliveries.labels(outcome=outcome).inc()

    def count_message(self, consumer: str, outcome: str) -> None:
        self.consumer_messages.labels(consumer=consumer, outcome=outcome).inc()

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def observe(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500
            recorded = False

            def record() -> None:
                nonlocal recorded
                recorded = True
                # Route templates, never raw paths: label cardinality stays bounded and no id
                # or slug from a URL reaches the metrics page.
                route = scope.get("path_template") or "unmatched"
                method = scope["method"]
                self.http_requests.labels(method=method, route=route, status=str(status)).inc()
                self.http_latency.labels(method=method, route=route).observe(
                    time.perf_counter() - started
                )

            async def observe_send(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                elif message["type"] == "http.response.body" and not message.get("more_body"):
                    # Before the last byte leaves: a client that reads /metrics next sees it.
                    record()
                await send(message)

            try:
                await app(scope, receive, observe_send)
            finally:
                if not recorded:
                    record()

        return observe
