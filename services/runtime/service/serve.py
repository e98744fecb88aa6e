"""Run a service under granian, the production ASGI server (chosen by measurement:
docs/decisions/0001-granian-and-uvloop.md)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from typing import Final

from granian import Granian
from granian.constants import Interfaces, Loops

from services.runtime.core.log import configure_logging
from services.runtime.core.settings import ServiceSettings

# Granian's own records flow into the root logger, so they are rendered like every other line.
_GRANIAN_LOGGING = {"loggers": {"_granian": {"handlers": [], "propagate": True}}}

# Named, not auto: auto takes whichever loop happens to be installed (rloop, uvloop, else
# asyncio's own, which costs a cached read about a third more CPU: docs/performance.md). A missing
# uvloop stops the start instead. The content benchmark's ceiling runs on the same loop.
EVENT_LOOP: Final = Loops.uvloop

# Sent by the server's main process to its workers when SIGTERM arrives with a shutdown delay:
# readiness turns false while the listener still serves (service.py listens for it).
DRAIN_SIGNAL = signal.SIGUSR1


def serve(service: str, app_factory: str, settings: ServiceSettings) -> None:
    """Serve `app_factory` ("module:function" returning the app) until SIGINT/SIGTERM.

    The factory runs in the worker process and reads the same environment the caller
    validated, so a bad setting has already been reported before any worker starts."""
    configure_logging(service=service, level=settings.log_level, fmt=settings.log_format)
    server = Granian(
        target=app_factory,
        factory=True,
        interface=Interfaces.ASGI,
        address=settings.host,
        port=settings.port,
        workers=1,
        loop=EVENT_LOOP,
        log_enabled=True,
        log_dictconfig=_GRANIAN_LOGGING,
        log_level=settings.log_level,  # type: ignore[arg-type]
        log_access=False,
        # A worker that dies ends the service: the orchestrator (or the stack runner) decides
        # what next, instead of granian respawning a start-up failure for ever.
        respawn_failed_workers=False,
        # The lifespan drains within shutdown_grace; past that the worker is killed, not awaited.
        workers_kill_timeout=int(settings.shutdown_grace) + 5,
    )
    if settings.shutdown_delay > 0:
        # A startup hook runs in the main process after granian set its signal handlers and
        # before it spawns the workers: the one place to put readiness before the listener.
        server.on_startup(lambda: _readiness_first(server.signal_handler_interrupt, settings))
    server.serve()


def _readiness_first(stop: Callable[[], None], settings: ServiceSettings) -> None:
    """Granian closes its listener as soon as SIGTERM arrives, so a load balancer still
    routing here would get refused connections. Instead, SIGTERM first tells the workers to
    answer /health/ready with 503 while serving everything else, and `shutdown_delay` seconds
    later (or at a second SIGTERM, or at SIGINT) stops them the usual way: listener closed,
    in-flight requests finished, then the lifespan drains messages."""
    # Inherited by the workers, so a notice that arrives before a worker listens for it is
    # ignored rather than killing the worker (the default action).
    signal.signal(DRAIN_SIGNAL, signal.SIG_IGN)
    draining = threading.Event()

    def on_sigterm(*_: object) -> None:
        if draining.is_set():
            stop()
            return
        draining.set()
        for worker in multiprocessing.active_children():
            if worker.pid is not None:
                os.kill(worker.pid, DRAIN_SIGNAL)
        timer = threading.Timer(settings.shutdown_delay, stop)
        timer.daemon = True
        timer.start()

    signal.signal(signal.SIGTERM, on_sigterm)
