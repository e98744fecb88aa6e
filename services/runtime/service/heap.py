"""A served worker's heap, set aside from the garbage collector once the service has started.

Everything made by the time a service has started (modules, classes, the app and its routes,
pools, caches of compiled statements: about a million objects) lives as long as the worker.
CPython's full collections walk all of it anyway, in the event loop's thread: 40-60 ms each,
every few seconds under load, and every request in flight waits for them (content's uncached
search at 1,000 requests/s; docs/performance.md). `gc.freeze()` moves what exists into a
generation the collector never visits; what requests allocate afterwards is collected as
before. Only for the served process (each service's `app_from_env`): apps built in a test
process come and go, and what they hold when frozen would never be collected."""

from __future__ import annotations

import gc

from litestar import Litestar


def set_aside_after_startup(app: Litestar) -> Litestar:
    """`app`, whose heap is frozen once its start-up (the lifespan) is complete."""
    app.on_startup.append(_freeze)
    return app


def _freeze() -> None:
    # Collected first: garbage made while starting is freed, not kept for ever.
    gc.collect()
    gc.freeze()
