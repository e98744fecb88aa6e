"""Deadline to escalation, measured: the support service in its own process, a rota of four
agents on call, an urgent target of 2 s and nobody acknowledging. For each case, the time from
its acknowledge deadline to its `support.case.escalated.v1` arriving on NATS (the escalation
loop's scan, the transaction, the outbox relay, JetStream): at the default
SUPPORT_ESCALATION_INTERVAL (1 s) and at 0.2 s."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import msgspec
from nats.aio.msg import Msg

from contracts.registry import STREAMS, SUPPORT_CASE_ESCALATED
from contracts.support import CaseEscalated
from deploy.embedded import free_port
from deploy.stack.files import REPO
from services.runtime.core.db import create_pool
from services.runtime.core.log import configure_logging
from services.runtime.messaging.bus import Bus
from services.runtime.privacy.crypto import KeyRing
from services.runtime.service.factory import prepare_database
from services.support.app import DEFINITION as SUPPORT
from tests.perf.logistics_bench import coordinator_token, wait_ready
from tests.perf.runtime_bench import percentile, row

CASES = 200
OPEN_RATE = 50.0  # cases a second
ACK_SECONDS = 2
AGENTS = ("Agent A", "Agent B", "Agent C", "Agent D")
INTERVALS = ("1.0", "0.2")
DEADLINE = 120.0
_escalated = msgspec.json.Decoder(CaseEscalated)


async def run(admin_url: str, nats_url: str) -> None:
    configure_logging(service="bench", level="warning")
    print(
        f"\nsupport: deadline -> escalation event on NATS, {CASES} urgent cases opened at "
        f"{OPEN_RATE:.0f}/s, acknowledge target {ACK_SECONDS} s\n"
    )
    print(f"{'':<48} {'rate':>12} {'p50':>12} {'p99':>12}")
    for interval in INTERVALS:
        namespace = f"bench{uuid.uuid4().hex[:6]}"
        bus = await Bus.connect(nats_url, name="bench-support", namespace=namespace)
        try:
            await bus.provision(STREAMS)
            async with support_database(admin_url) as database_url:
                token = await coordinator_token(database_url)
                async with support_service(database_url, nats_url, namespace, interval) as url:
                    late = await measure(bus, url, {"Authorization": f"Bearer {token}"})
            print(
                row(
                    f"deadline -> escalated event, interval {interval} s",
                    None,
                    percentile(late, 50),
                    percentile(late, 99),
                )
            )
            print(f"{'':<48} max {max(late):.0f} ms, {len(late)} escalations")
        finally:
            for info in await bus.js.streams_info():
                if (info.config.name or "").startswith(f"{namespace}_"):
                    await bus.js.delete_stream(info.config.name)
            await bus.close()


async def measure(bus: Bus, url: str, coordinator: dict[str, str]) -> list[float]:
    """Milliseconds from each first escalation's missed deadline to its event on NATS."""
    late: dict[str, float] = {}
    done = asyncio.Event()

    async def on_event(msg: Msg) -> None:
        arrived = time.time()
        event = _escalated.decode(msg.data)
        if event.to_person == AGENTS[1]:
            late.setdefault(event.case_id, (arrived - event.missed_deadline.timestamp()) * 1000)
            if len(late) >= CASES:
                done.set()

    subscription = await bus.nc.subscribe(bus.subject(SUPPORT_CASE_ESCALATED.address), cb=on_event)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            await desk(client, coordinator)
            next_at = time.perf_counter()
            for n in range(CASES):
                answer = await client.post(
                    "/v1/support/cases",
                    json={
                        "category": "transfer",
                        "priority": "urgent",
                        "language": "en",
                        "message": f"bench {n}",
                    },
                    headers=coordinator,
                )
                answer.raise_for_status()
                next_at += 1 / OPEN_RATE
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await asyncio.wait_for(done.wait(), DEADLINE)
    finally:
        await subscription.unsubscribe()
    return list(late.values())


async def desk(client: httpx.AsyncClient, coordinator: dict[str, str]) -> None:
    for person in AGENTS:
        answer = await client.put(
            f"/v1/support/agents/{person}",
            json={"email": person.lower().replace(" ", ".") + "@carebridge.example"},
            headers=coordinator,
        )
        answer.raise_for_status()
    now = datetime.now(UTC)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    shifts = [
        {"person": p, "starts_at": start.isoformat(), "ends_at": end.isoformat(), "position": i}
        for i, p in enumerate(AGENTS)
    ]
    answer = await client.put(
        "/v1/support/rota",
        json={"starts_at": start.isoformat(), "ends_at": end.isoformat(), "shifts": shifts},
        headers=coordinator,
    )
    answer.raise_for_status()
    answer = await client.put(
        "/v1/support/policies/urgent",
        json={"acknowledge_within_seconds": ACK_SECONDS, "resolve_within_seconds": 3600},
        headers=coordinator,
    )
    answer.raise_for_status()


@asynccontextmanager
async def support_database(admin_url: str) -> AsyncIterator[str]:
    name = f"bench_support_{uuid.uuid4().hex[:8]}"
    base, _, _ = admin_url.rpartition("/")
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    url = f"{base}/{name}"
    try:
        pool = await create_pool(url, schema=SUPPORT.schema, min_size=1, max_size=1)
        try:
            await prepare_database(pool, SUPPORT)
        finally:
            await pool.close()
        yield url
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


@asynccontextmanager
async def support_service(
    database_url: str, nats_url: str, namespace: str, interval: str
) -> AsyncIterator[str]:
    """The service as it runs in production: its own process."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "NATS_NAMESPACE": namespace,
        "PORT": str(port),
        "METRICS_PORT": "0",
        "LOG_LEVEL": "warning",
        "LOG_FORMAT": "json",
        "SUPPORT_ENCRYPTION_KEYS": KeyRing.generate_setting("bench1"),
        "SUPPORT_ESCALATION_INTERVAL": interval,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.support", cwd=REPO, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, process)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
