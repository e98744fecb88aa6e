"""What makes a service itself: its name, schema, migrations, routes, subscriptions and
settings. What it has while running is in running.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar.types import ControllerRouterHandler

from services.runtime.access import staff
from services.runtime.core.migrate import RUNTIME_MIGRATIONS, Migration, load_migrations
from services.runtime.core.settings import ServiceSettings, load_settings_or_exit
from services.runtime.messaging.inbox import Subscription

if TYPE_CHECKING:
    # Only named in a type: a running service is built from its definition, not the reverse.
    from services.runtime.service.running import Runtime

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
