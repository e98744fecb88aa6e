"""What a service has while running (its runtime): the live parts its routes, consumers and
loops share, and how a route asks for them."""

from __future__ import annotations

import asyncio

from litestar.di import NamedDependency

from services.runtime.core.db import Pool
from services.runtime.core.settings import ServiceSettings
from services.runtime.http.metrics import Metrics
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.inbox import Consumer
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing
from services.runtime.service.definition import ServiceDefinition


class Runtime:
    """The live parts of a running service, shared by its routes, consumers and loops.

    A plain class on purpose: Litestar inspects the fields of dataclasses it injects."""

    def __init__(
        self,
        *,
        definition: ServiceDefinition,
        settings: ServiceSettings,
        pool: Pool,
        bus: Bus,
        outbox: Outbox,
        metrics: Metrics,
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.pool = pool
        self.bus = bus
        self.outbox = outbox
        self.metrics = metrics
        self.consumers: list[Consumer] = []
        self.accepting = True
        self.stop = asyncio.Event()
        # Where the metrics page is served, once its listener is bound; None when it is not.
        self.metrics_port: int | None = None


# How routes ask for the runtime: `runtime: RuntimeDependency`.
RuntimeDependency = NamedDependency[Runtime]
# How routes ask for the key ring that opens personal data, which a service that seals any
# provides as dependency "keys": `keys: KeysDependency`.
KeysDependency = NamedDependency[KeyRing]
