"""Content read benchmark: one condition served by the content service (one granian worker,
from its in-process cache), a 304 revalidation, and the same bytes from a bare ASGI app (the
ceiling), all measured by wrk in the same run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from deploy.embedded import free_port
from services.content.app import DEFINITION
from services.content.seeding import seed_content
from services.runtime import api_keys
from services.runtime.db import create_pool
from services.runtime.outbox import Outbox
from services.runtime.service import prepare_database
from tests.perf.servers import Servers

URL_PATH = "/v1/conditions/mitral-valve-insufficiency"
DURATION = "10s"
CONNECTIONS = 32


def wrk(
    url: str, headers: dict[str, str] | None = None, script: Path | None = None
) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 in ms; `script` is a wrk Lua script (to POST, say)."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    # Error answers are fast and would flatter the figures.
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if failed:
        raise RuntimeError(f"{failed.group(1)} requests to {url} failed:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rate, _percentile(out, "50%"), _percentile(out, "99%")


def _percentile(out: str, label: str) -> float:
    match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
    assert match is not None, out
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def serve(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code < 600:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{args} did not start")


async def run(servers: Servers) -> None:
    if shutil.which("wrk") is None:
        print("content benchmark skipped: wrk is not installed (Debian: apt-get install wrk)")
        return
    # Readers come as a consumer would, with an API key: the measured path includes the key
    # lookup and its rate limit (set far above what one machine can send).
    consumer = {"X-API-Key": await _seed(servers.database_url)}
    port, ceiling_port = free_port(), free_port()
    env = {
        "DATABASE_URL": servers.database_url,
        "NATS_URL": servers.nats_url,
        "PORT": str(port),
        "LOG_LEVEL": "warning",
        "NATS_NAMESPACE": "benchcontent",
    }
    service = serve([sys.executable, "-m", "services.content"], env, port)
    ceiling = None
    try:
        url = f"http://127.0.0.1:{port}{URL_PATH}"
        first = httpx.get(url, headers=consumer)
        first.raise_for_status()
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as body_file:
            body_file.write(first.content)
        ceiling = serve(
            [
                sys.executable, "-m", "granian", "--interface", "asgi", "--port",
                str(ceiling_port), "--log-level", "warning", "--no-access-log",
                "tests.perf.ceiling_app:app",
            ],
            {"CEILING_BODY_FILE": body_file.name, "CEILING_ETAG": first.headers["etag"]},
            ceiling_port,
        )  # fmt: skip
        print(f"\ncontent read: {len(first.content)} bytes, wrk -t1 -c{CONNECTIONS} -d{DURATION}")
        ceiling_rate, c50, c99 = wrk(f"http://127.0.0.1:{ceiling_port}/")
        ok_rate, o50, o99 = wrk(url, consumer)
        revalidate_rate, r50, r99 = wrk(url, {**consumer, "If-None-Match": first.headers["etag"]})
        print(f"{'':<44} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'of ceiling':>11}")
        for name, rate, p50, p99 in (
            ("ceiling: bare ASGI app, same bytes (200)", ceiling_rate, c50, c99),
            ("content service, cached condition (200)", ok_rate, o50, o99),
            ("content service, If-None-Match (304)", revalidate_rate, r50, r99),
        ):
            print(
                f"{name:<44} {rate:>10,.0f} {p50:>8.2f} {p99:>8.2f} {rate / ceiling_rate:>10.2f}x"
            )
    finally:
        for process in (service, ceiling):
            if process is not None:
                process.terminate()
                process.wait(10)


async def _seed(database_url: str) -> str:
    """Seed content and return a new API key for the readers."""
    pool = await create_pool(database_url, schema=DEFINITION.schema, min_size=1, max_size=2)
    try:
        await prepare_database(pool, DEFINITION)
        outbox = Outbox(source="/carebridge/content", schema=DEFINITION.schema)
        await seed_content(pool, outbox, now=datetime.now(UTC))
        async with pool.acquire() as conn:
            _, key = await api_keys.create_api_key(
                conn, name=f"bench-{uuid.uuid4().hex[:8]}", origins=(), rate_per_minute=10**9
            )
        return key
    finally:
        await pool.close()
