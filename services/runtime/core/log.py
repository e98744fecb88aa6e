"""structlog set-up: JSON lines for machines, a console renderer on a terminal, and a redactor
that keeps secrets and personal data out of every log line."""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any, Literal

import msgspec
import structlog

from services.runtime.core import tracing

# Keys whose values must never reach a log line, whatever logs them (GDPR Art. 9, secrets).
REDACTED_KEYS = frozenset(
    {
        "authorization",
        "access_token",
        "token",
        "password",
        "secret",
        "api_key",
        "full_name",
        "name",
        "email",
        "phone",
        "date_of_birth",
        "description",
        "diagnoses",
        "address",
        "patient",
    }
)
REDACTED = "[redacted]"


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event_dict.keys() & REDACTED_KEYS:
        event_dict[key] = REDACTED
    return event_dict


def event_loop_name() -> str:
    """The library of the running event loop ("uvloop" or "asyncio"), for start-up lines: the
    loop sets the speed of everything a process does, and a missing install changes it
    silently."""
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]


def configure_logging(
    *,
    service: str,
    level: str = "info",
    fmt: Literal["auto", "json", "console"] = "auto",
) -> None:
    """Route structlog and the standard library (servers, drivers) through one pipeline."""
    console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        _add_trace_id,
        redact,
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer()
        if console
        else structlog.processors.JSONRenderer(serializer=_json_dumps)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                traceback_without_values,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def traceback_without_values(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Where the error happened, never what it was about: frames and exception types only.
    Exception messages quote the data that failed (a driver's "invalid input ... 'ada@…'"),
    and rich tracebacks print local variables; either would put personal data in a log."""
    exc_info = event_dict.pop("exc_info", None)
    if not exc_info:
        return event_dict
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    exc = exc_info[1]
    parts: list[str] = []
    while exc is not None:
        frames = "".join(traceback.format_tb(exc.__traceback__))
        parts.append(f"{frames}{type(exc).__module__}.{type(exc).__qualname__}")
        exc = exc.__cause__ or exc.__context__
    event_dict["exception"] = "\n-- caused by --\n".join(parts)
    return event_dict


def _add_service(service: str) -> structlog.types.Processor:
    def add(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    return add


def _add_trace_id(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The current trace's id, when traces are exported: a log line leads to its trace."""
    if tracing.exporting() and (trace_id := tracing.current_trace_id()) is not None:
        event_dict.setdefault("trace_id", trace_id)
    return event_dict


def _json_dumps(obj: Any, **_: Any) -> str:
    return msgspec.json.encode(obj, enc_hook=str).decode()
