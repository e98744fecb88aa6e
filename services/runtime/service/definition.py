"""What a service is (its definition) and what it has while running (its runtime)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from services.runtime.access import staff
from services.runtime.core.db import Pool
from services.runtime.core.migrate import RUNTIME_MIGRATIONS, Migration, load_migrations
from services.runtime.core.settings import ServiceSettings, load_settings_or_exit
from services.runtime.http.metrics import Metrics
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.inbox import Consumer, Subscription
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing

STAFF_MIGRATIONS = Path(__file__).parents[1] / "access" / "staff_migrations"


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes a service itself; everything else comes from the runtime."""

    name: str
    title: str
    description: str
    migrations: Path
    default_port: int
    route_handlers: Sequence[ControllerRouterHandler] = ()
    subscriptions: Callable[[Runtime], Sequence[Subscription[Any]]] = lambda _: ()
    settings_type: type[ServiceSettings] = ServiceSettings
    version: str = "1.0.0"
    # Whether the service is unready without NATS. A service whose answers need only
    # PostgreSQL (content's reads, with their cache) stays in the load balancer through a
    # NATS outage: its readiness then names NATS "degraded" (its caches are not invalidated
    # by events until NATS returns) rather than taking its reads away.
    ready_needs_nats: bool = True

    def load_settings(self) -> ServiceSettings:
        """From the environment; a bad value ends the process naming the variable."""
        return load_settings_or_exit(self.settings_type, port=self.default_port)

    @property
    def schema(self) -> str:
        return self.name

    def migrations_by_schema(self) -> dict[str, list[Migration]]:
        return {
            staff.SCHEMA: load_migrations("staff", STAFF_MIGRATIONS),
            self.schema: load_migrations("runtime", RUNTIME_MIGRATIONS)
            + load_migrations(self.name, self.migrations),
        }


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
