"""The local stack (deploy/stack) run inside a test or the soak, with its own PostgreSQL and NATS,
and the faults this suite injects into it: a process killed with SIGKILL and started again, the
NATS server or PostgreSQL stopped and started again on the same port and data."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import asyncpg
import httpx
from nats.errors import Error as NatsError
from prometheus_client.parser import text_string_to_metric_families

from deploy.embedded import free_port
from deploy.stack import infra
from deploy.stack.console import Console
from deploy.stack.files import StackPaths, read_json
from deploy.stack.runner import DEFINITIONS, SOURCES, Stack
from deploy.stack.services import ChildProcess, ServiceProcess, wait_until_ready
from services.runtime.messaging.bus import Bus
from tests.e2e.local_stack import QUICK_PARTNERS

SCHEMAS = tuple(d.schema for d in DEFINITIONS)
# Quick partners and short acknowledgement deadlines: a message whose holder was killed comes
# back within seconds instead of the production 30 s, so a run settles in a test's time.
FAST = {
    **QUICK_PARTNERS,
    "ACK_WAIT": "5",
    "CONSUMER_ACK_WAIT": "5",
    "RELAY_POLL_INTERVAL": "0.5",
    "DB_POOL_MIN": "1",
    "LOG_LEVEL": "warning",
    # The coordinator's requests come from one address without an API key.
    "ANONYMOUS_RATE_LIMIT": "0",
}
SERVER_DOWNTIME = 2.0
PROCESS_DOWNTIME = 0.5


@dataclass
class Fault:
    """One injected fault: what, when (wall clock), and what was in flight just before."""

    target: str
    began: float
    in_flight: int
    recovered: float = 0.0
    # What /health/ready answered while the fault lasted, per service.
    readiness: dict[str, set[int]] | None = None

    @property
    def label(self) -> str:
        if self.target in ("postgres", "nats"):
            return f"restart {'PostgreSQL' if self.target == 'postgres' else 'NATS server'}"
        return f"kill -9 {self.target}"


class FaultyStack:
    """A running stack and the handles to hurt it."""

    def __init__(self, stack: Stack, manifest: dict[str, Any], admin: Bus, log: Path) -> None:
        self.stack = stack
        self.log = log
        self.manifest = manifest
        self.admin = admin
        self.faults: list[Fault] = []

    @property
    def database_url(self) -> str:
        return str(self.manifest["database_url"])

    async def add_replica(self, name: str) -> ServiceProcess:
        """A second instance of service `name`: same environment, database and streams, its
        own port; stopped with the stack."""
        first = next(s for s in self.stack.services if s.name == name)
        env = {**first.env, "METRICS_PORT": str(free_port())}
        replica = await ServiceProcess.serve(name, free_port(), env, first.console)
        self.stack.services.append(replica)
        await wait_until_ready([replica], timeout=90.0)
        return replica

    async def kill(self, name: str) -> Fault:
        """SIGKILL the process `name` (a service, its first instance, or a partner) and start
        it again."""
        child: ChildProcess = next(
            c for c in (*self.stack.services, *self.stack.partners) if c.name == name
        )
        fault = Fault(name, time.time(), await self.in_flight())
        await child.kill()
        await asyncio.sleep(PROCESS_DOWNTIME)
        await child.respawn()
        if isinstance(child, ServiceProcess):
            await wait_until_ready([child], timeout=90.0)
        fault.recovered = time.time()
        self.faults.append(fault)
        return fault

    async def restart(self, server: str) -> Fault:
        """Stop the server ("postgres" or "nats"), probe readiness while it is away, start it
        again; return once every service is ready again."""
        fault = Fault(server, time.time(), await self.in_flight())
        await asyncio.to_thread(self.stack.stop_server, server)
        fault.readiness = await self._probe_readiness(SERVER_DOWNTIME)
        await asyncio.to_thread(self.stack.start_server, server)
        await wait_until_ready(self.stack.services, timeout=90.0)
        fault.recovered = time.time()
        self.faults.append(fault)
        return fault

    def errors_logged(self) -> list[str]:
        """Lines the services and partners logged at level error or above: crashes, 500s,
        dead letters. Outages must show as warnings only."""
        return [
            line[:300]
            for line in self.log.read_text(errors="replace").splitlines()
            if '"level":"error"' in line or '"level":"critical"' in line or "Traceback" in line
        ]

    async def _probe_readiness(self, seconds: float) -> dict[str, set[int]]:
        seen: dict[str, set[int]] = {s.name: set() for s in self.stack.services}
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                for service in self.stack.services:
                    try:
                        response = await client.get(f"{service.url}/health/ready")
                    except httpx.TransportError:
                        seen[service.name].add(0)
                    else:
                        seen[service.name].add(response.status_code)
                await asyncio.sleep(0.2)
        return seen

    async def in_flight(self) -> int:
        """Rows waiting in the outboxes plus messages not yet acknowledged by a consumer."""
        return await self.outbox_rows() + await self.consumer_lag()

    async def outbox_rows(self) -> int:
        conn = await asyncpg.connect(self.database_url, timeout=5)
        try:
            counts = [await conn.fetchval(f"SELECT count(*) FROM {s}.outbox") for s in SCHEMAS]
        finally:
            await conn.close()
        return sum(int(c) for c in counts)

    async def consumer_lag(self) -> int:
        """Pending plus unacknowledged, over every durable consumer of every stream."""
        total = 0
        try:
            for stream in await self.admin.js.streams_info():
                name = stream.config.name or ""
                for consumer in await self.admin.js.consumers_info(name):
                    # Not the ephemeral ones the ledger reads the streams with.
                    if consumer.config.durable_name:
                        total += int(consumer.num_pending or 0)
                        total += int(consumer.num_ack_pending or 0)
        except (NatsError, OSError, TimeoutError):
            return -1
        return total


def stack_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """The environment of a stack on free ports, embedded servers and FAST timings."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "NATS_URL"}}
    names = [infra.port_variable(d.name) for d in DEFINITIONS]
    names += ["STACK_POSTGRES_PORT", "STACK_NATS_PORT", "SITE_PORT"]
    env.update({name: str(free_port()) for name in names})
    return {**env, **FAST, **overrides}


def _log_file(root: Path) -> TextIO:
    root.mkdir(parents=True, exist_ok=True)
    return (root / "stack.log").open("a", encoding="utf-8")


@asynccontextmanager
async def running_stack(
    root: Path, overrides: Mapping[str, str] | None = None
) -> AsyncIterator[FaultyStack]:
    """The stack in `root`, its console written to `root`/stack.log; stopped on the way out."""
    env = stack_env(overrides or {})
    paths = StackPaths(root)
    with _log_file(root) as log:
        console = Console(SOURCES, out=log, err=log)
        config = infra.StackConfig.from_env(env, DEFINITIONS)
        stack = Stack(paths, console, config, env)
        async with AsyncExitStack() as resources:
            await stack.start(resources, time.monotonic())
            manifest = read_json(paths.manifest) or {}
            admin = await Bus.connect(manifest["nats_url"], name="faults")
            resources.push_async_callback(admin.close)
            yield FaultyStack(stack, manifest, admin, root / "stack.log")


async def work_done(metrics_url: str) -> tuple[float, float]:
    """(events published by its relay, messages its consumers applied) as one service instance
    counts them on its metrics page."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(metrics_url)
    response.raise_for_status()
    published = applied = 0.0
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "outbox_published_total":
                published += sample.value
            elif sample.name == "consumer_messages_total" and sample.labels["outcome"] == "applied":
                applied += sample.value
    return published, applied
