"""What the services stand on: PostgreSQL and NATS (embedded unless DATABASE_URL / NATS_URL
point elsewhere), the stack's database, its migrations and its streams."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Self

import asyncpg
from nats.js.errors import APIError

from contracts.registry import STREAMS
from deploy.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    free_port,
    port_is_free,
    start_nats,
    start_postgres,
)
from deploy.nats_auth import ensure_partner_consumers
from deploy.stack.console import Console
from deploy.stack.errors import StackError
from deploy.stack.files import StackPaths
from services.runtime.core.db import create_pool
from services.runtime.core.migrate import MigrationError
from services.runtime.messaging.bus import Bus
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import prepare_database

DATABASE = "carebridge"
_CONNECT_TIMEOUT = 10.0
_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]+@")


@dataclass(frozen=True)
class StackConfig:
    """The runner's settings, read from the environment once, before anything starts."""

    external_database_url: str | None
    external_nats_url: str | None
    postgres_port: int
    nats_port: int
    nats_namespace: str
    # Replicas of the streams the stack declares before the services start (3 on a cluster):
    # declared at 1, they would be raised only when the services start, one stream at a time.
    nats_stream_replicas: int
    service_ports: Mapping[str, int]
    # The example site's static server (examples/site/), a client of the services like any site.
    site_port: int = 3000
    # The operator console (services/console), a client of the services' APIs.
    console_port: int = 8000

    @classmethod
    def from_env(cls, env: Mapping[str, str], definitions: Sequence[ServiceDefinition]) -> Self:
        return cls(
            external_database_url=env.get("DATABASE_URL") or None,
            external_nats_url=env.get("NATS_URL") or None,
            postgres_port=_port(env, "STACK_POSTGRES_PORT", 15432),
            nats_port=_port(env, "STACK_NATS_PORT", 14222),
            nats_namespace=env.get("NATS_NAMESPACE", ""),
            nats_stream_replicas=_replicas(env),
            service_ports={
                d.name: _port(env, port_variable(d.name), d.default_port) for d in definitions
            },
            site_port=_port(env, "SITE_PORT", 3000),
            console_port=_port(env, "CONSOLE_PORT", 8000),
        )

    def named_ports(self) -> set[int]:
        """Every port this configuration names, the services' metrics listeners among them
        (the API port + 1000 unless METRICS_PORT says otherwise, as ServiceSettings reads it):
        the runner must not pick any of them for what it starts itself."""
        services = set(self.service_ports.values())
        return {
            *services,
            *(port + 1000 for port in services),
            self.site_port,
            self.console_port,
            self.postgres_port,
            self.nats_port,
        }

    def check_service_ports(self) -> None:
        """Fail before starting anything: a service that cannot bind would only fail later."""
        seen: dict[int, str] = {}
        for name, port in {
            **self.service_ports,
            "site": self.site_port,
            "console": self.console_port,
        }.items():
            if port in seen:
                raise StackError(
                    f"{seen[port]} and {name} both want port {port}; "
                    f"set {port_variable(name)} to another port"
                )
            seen[port] = name
            if not port_is_free(port):
                raise StackError(
                    f"port {port} for {name} is in use; set {port_variable(name)} to a free port"
                )


def display_url(url: str) -> str:
    """`url` without its password, for the console."""
    return _PASSWORD.sub(r"\1***@", url)


def port_variable(service: str) -> str:
    return f"{service.upper()}_PORT"


def _port(env: Mapping[str, str], variable: str, default: int) -> int:
    raw = env.get(variable) or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise StackError(f"{variable} must be a port number (1-65535), got {raw!r}")
    return int(raw)


def _replicas(env: Mapping[str, str]) -> int:
    raw = env.get("NATS_STREAM_REPLICAS") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 5:
        raise StackError(f"NATS_STREAM_REPLICAS must be a number from 1 to 5, got {raw!r}")
    return int(raw)


def _choose_port(wanted: int, variable: str, console: Console) -> int:
    if port_is_free(wanted):
        return wanted
    port = free_port()
    console.say(f"port {wanted} is busy, using {port} instead (set {variable} to choose)")
    return port


def start_embedded_postgres(
    paths: StackPaths, wanted_port: int, console: Console
) -> EmbeddedPostgres:
    port = _choose_port(wanted_port, "STACK_POSTGRES_PORT", console)
    console.say(f"starting PostgreSQL on 127.0.0.1:{port}…")
    server = start_postgres(paths.postgres, port, durable=True, log=console.say)
    console.say(f"PostgreSQL log: {server.log_path}")
    return server


def start_embedded_nats(paths: StackPaths, wanted_port: int, console: Console) -> EmbeddedNats:
    """With the authorization config written beforehand (paths.nats_config)."""
    port = _choose_port(wanted_port, "STACK_NATS_PORT", console)
    console.say(f"starting NATS on 127.0.0.1:{port} with authorization…")
    server = start_nats(paths.nats, port, config=paths.nats_config)
    console.say(f"NATS log: {server.log_path}")
    return server


async def ensure_database(server: EmbeddedPostgres) -> str:
    """The stack's own database, so `postgres` stays free for tools; returns its URL."""
    admin = await asyncpg.connect(server.url("postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if not exists:
            await admin.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await admin.close()
    return server.url(DATABASE)


async def migrate(database_url: str, definitions: Sequence[ServiceDefinition]) -> None:
    """Migrate before the services start, so they find the schema ready and a broken migration
    is reported once, here, instead of by three crashing services."""
    for definition in definitions:
        try:
            pool = await asyncio.wait_for(
                create_pool(database_url, schema=definition.schema, min_size=1, max_size=1),
                _CONNECT_TIMEOUT,
            )
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise StackError(
                f"cannot connect to PostgreSQL at {display_url(database_url)}: {exc}"
            ) from exc
        try:
            await prepare_database(pool, definition)
        except (MigrationError, asyncpg.PostgresError) as exc:
            raise StackError(f"migrating {definition.name} failed: {exc}") from exc
        finally:
            await pool.close()


async def provision_streams(
    nats_url: str, namespace: str, replicas: int, partner_consumers: Iterable[str] = ()
) -> None:
    """The streams, and the durable consumer of each partner in `partner_consumers` (one with
    restricted credentials cannot make its own)."""
    try:
        bus = await Bus.connect(
            nats_url,
            name="stack",
            namespace=namespace,
            replicas=replicas,
            first_connect_timeout=_CONNECT_TIMEOUT,
        )
    except ConnectionError as exc:
        raise StackError(f"cannot connect to NATS at {display_url(nats_url)}") from exc
    try:
        await bus.provision(STREAMS)
        await ensure_partner_consumers(bus, partner_consumers)
    except APIError as exc:
        raise StackError(
            f"declaring the streams at {replicas} replica(s) (NATS_STREAM_REPLICAS) failed: "
            f"{exc.description}"
        ) from exc
    finally:
        await bus.close()
