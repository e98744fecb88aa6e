"""SIGTERM on a real service process under granian: readiness turns false first, in-flight
requests and messages finish, then the process exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec
import pytest

from contracts.content import ContentPublished
from contracts.envelope import Metadata, event_type
from contracts.registry import CONTENT_PUBLISHED
from deploy.embedded import free_port
from services.runtime.core.db import create_pool
from services.runtime.core.settings import ServiceSettings, as_environ
from services.runtime.messaging.bus import Bus
from tests.integration.runtime.draining_service import MODULE, SLOW_SECONDS
from tests.support import eventually

REPO = Path(__file__).resolve().parents[3]
SHUTDOWN_DELAY = 2.0


class Service:
    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log

    async def ready_status(self) -> int | None:
        """Probed as an orchestrator probes: a new connection each time."""
        try:
            async with httpx.AsyncClient(timeout=2) as probe:
                return (await probe.get(f"{self.url}/health/ready")).status_code
        except httpx.TransportError:
            return None


@pytest.fixture
def service(settings: ServiceSettings, tmp_path: Path) -> Iterator[Service]:
    port = free_port()
    env = as_environ(settings)
    env |= {
        "PORT": str(port),
        "LOG_FORMAT": "json",
        "SHUTDOWN_DELAY": str(SHUTDOWN_DELAY),
        "DRAIN_MARKERS": str(tmp_path),
    }
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", MODULE],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Service(process, f"http://127.0.0.1:{port}", log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_sigterm_turns_readiness_false_then_drains_requests_and_messages(
    service: Service, bus: Bus, settings: ServiceSettings, tmp_path: Path
) -> None:
    async def ready_is(status: int | None) -> bool:
        assert service.process.poll() is None, service.log.read_text()
        return await service.ready_status() == status

    await eventually(lambda: ready_is(200), timeout=60)
    event_id = str(uuid.uuid4())
    subject = bus.subject(CONTENT_PUBLISHED.subject(kind="condition"))
    await bus.js.publish(subject, BODY, headers=headers(event_id))

    async with httpx.AsyncClient(timeout=30) as client:
        request = asyncio.create_task(client.get(f"{service.url}/slow", params={"name": "req"}))
        await eventually(lambda: in_flight(tmp_path, "req", "message-mitral"), timeout=20)

        service.process.send_signal(signal.SIGTERM)
        started = asyncio.get_running_loop().time()

        # Not ready, yet serving: a balancer sees 503 and stops routing here.
        await eventually(lambda: ready_is(503), timeout=SHUTDOWN_DELAY)
        response = await request
        drained_after = asyncio.get_running_loop().time() - started

    assert (response.status_code, response.text) == (200, "req done")
    assert drained_after < SLOW_SECONDS + 1
    assert await asyncio.to_thread(service.process.wait, 30) == 0, service.log.read_text()
    # The slow message was applied and acknowledged before the exit: nothing to redeliver.
    pool = await create_pool(settings.database_url, schema="content", min_size=1, max_size=1)
    try:
        applied = await pool.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = 'draining' AND event_id = $1", event_id
        )
    finally:
        await pool.close()
    assert applied == 1
    info = await bus.js.consumer_info(bus.stream("CONTENT"), "draining")
    assert (info.num_pending, info.num_ack_pending, info.num_redelivered) == (0, 0, 0)


async def in_flight(folder: Path, *names: str) -> bool:
    return all((folder / name).exists() for name in names)


BODY = msgspec.json.encode(
    ContentPublished(
        kind="condition",
        slug="mitral",
        locales=("en",),
        revision=1,
        published_at=datetime(2026, 11, 25, tzinfo=UTC),
    )
)


def headers(event_id: str) -> dict[str, str]:
    return Metadata(
        id=event_id,
        type=event_type(ContentPublished),
        source="/carebridge/content",
        time=datetime.now(UTC),
    ).headers()
