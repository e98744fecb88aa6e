"""HTTP server spans from Litestar's own OpenTelemetry integration (the plugin shipped inside
Litestar, on OpenTelemetry's ASGI instrumentation), installed only when spans are exported: the
fast paths pay nothing otherwise. An incoming `traceparent` is continued."""

from __future__ import annotations

from typing import Any, cast

from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.types import Message, Scope
from opentelemetry import trace
from opentelemetry.trace import Span

from services.runtime.http.access_log import UNROUTED
from services.runtime.http.request_context import TRACE_ID

# Probes and scrapes would bury the requests that matter.
_NOT_TRACED = ["/health/", "/metrics"]
# Attributes of the instrumentation that may hold the query string: a query value may be
# personal (a search for a condition), so only the part before `?` is kept.
_WITH_QUERY = ("http.target", "http.url", "url.full")


class Tracing(InitPlugin):
    """Litestar's OpenTelemetry plugin, with server spans named by the route template once
    routed. Beside it rather than a subclass: Litestar finds that plugin by its class name."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.before_send.append(_name_by_route)
        return app_config


def tracing_plugins() -> list[InitPlugin]:
    return [_litestar_plugin(), Tracing()]


def _litestar_plugin() -> OpenTelemetryPlugin:
    return OpenTelemetryPlugin(
        OpenTelemetryConfig(
            exclude=_NOT_TRACED,
            # One span per request, not one per body chunk.
            exclude_spans=["receive", "send"],
            server_request_hook_handler=_server_request,
        )
    )


async def _name_by_route(message: Message, scope: Scope) -> None:
    """The span is named at arrival, before routing, after the raw path: ids in it would make
    every case a span name of its own. Once routed, the template names it (as it does the
    access log line); a path nothing routed to is `unrouted`."""
    if message["type"] != "http.response.start":
        return
    span = trace.get_current_span()
    if not span.is_recording():
        return
    template = cast(dict[str, Any], scope).get("path_template") or UNROUTED
    span.update_name(f"{scope.get('method', 'GET')} {template}")
    span.set_attribute("http.route", template)


def _server_request(span: Span, scope: dict[str, Any]) -> None:
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in _WITH_QUERY:
        value = attributes.get(key)
        if isinstance(value, str) and "?" in value:
            span.set_attribute(key, value.partition("?")[0])
    if "url.query" in attributes:
        span.set_attribute("url.query", "")
    # For the access log line, written once the span has ended.
    scope[TRACE_ID] = format(span.get_span_context().trace_id, "032x")
