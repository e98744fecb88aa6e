"""Run a service under granian, the production ASGI server (chosen by measurement: see README)."""

from __future__ import annotations

from granian import Granian
from granian.constants import Interfaces, Loops

from services.runtime.log import configure_logging
from services.runtime.settings import ServiceSettings

# Granian's own records flow into the root logger, so they are rendered like every other line.
_GRANIAN_LOGGING = {"loggers": {"_granian": {"handlers": [], "propagate": True}}}


def serve(service: str, app_factory: str, settings: ServiceSettings) -> None:
    """Serve `app_factory` ("module:function" returning the app) until SIGINT/SIGTERM.

    The factory runs in the worker process and reads the same environment the caller
    validated, so a bad setting has already been reported before any worker starts."""
    configure_logging(service=service, level=settings.log_level, fmt=settings.log_format)
    Granian(
        target=app_factory,
        factory=True,
        interface=Interfaces.ASGI,
        address=settings.host,
        port=settings.port,
        workers=1,
        loop=Loops.auto,
        log_enabled=True,
        log_dictconfig=_GRANIAN_LOGGING,
        log_level=settings.log_level,  # type: ignore[arg-type]
        log_access=False,
        # A worker that dies ends the service: the orchestrator (or the stack runner) decides
        # what next, instead of granian respawning a start-up failure for ever.
        respawn_failed_workers=False,
        # The lifespan drains within shutdown_grace; past that the worker is killed, not awaited.
        workers_kill_timeout=int(settings.shutdown_grace) + 5,
    ).serve()
