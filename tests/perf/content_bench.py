"""Content read benchmark: one condition served by the content service (one granian worker,
from its in-process cache), a 304 revalidation, and the same bytes from a bare ASGI app (the
ceiling), all measured by wrk in the same run."""

from __future__ import annotations

import os
import re
import shutil
import statistics
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
from services.content.usecases.seeding import seed_content
from services.runtime.access import api_keys
from services.runtime.core.db import create_pool
from services.runtime.messaging.outbox import Outbox
from services.runtime.service.factory import prepare_database
from services.runtime.service.serve import EVENT_LOOP
from tests.perf.servers import Servers

URL_PATH = "/v1/conditions/mitral-valve-insufficiency"
DURATION = "10s"
SECONDS = 10.0
CONNECTIONS = 32
ROUNDS = 3


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


def _cpu_seconds(root: int) -> float:
    """CPU time (user + system) of process `root` and its descendants: granian serves from a
    child process."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the command name, which may itself hold spaces and parentheses.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    tree, grown = {root}, True
    while grown:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grown = bool(children)
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def measured(
    process: subprocess.Popen[bytes], url: str, headers: dict[str, str] | None = None
) -> tuple[float, float, float, float]:
    """wrk's figures and the server's CPU microseconds per request: a figure that the other
    tenants of a shared machine disturb far less than the rate."""
    before = _cpu_seconds(process.pid)
    rate, p50, p99 = wrk(url, headers)
    return rate, p50, p99, (_cpu_seconds(process.pid) - before) / (rate * SECONDS) * 1e6


def _median(runs: list[tuple[float, ...]]) -> tuple[float, ...]:
    """Median of each figure over the rounds."""
    return tuple(statistics.median(column) for column in zip(*runs, strict=True))


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
                # The server as services/runtime/service/serve.py runs it: one worker, its loop.
                sys.executable, "-m", "granian", "--interface", "asgi", "--loop", EVENT_LOOP.value,
                "--port", str(ceiling_port), "--log-level", "warning", "--no-access-log",
                "tests.perf.ceiling_app:app",
            ],
            {"CEILING_BODY_FILE": body_file.name, "CEILING_ETAG": first.headers["etag"]},
            ceiling_port,
        )  # fmt: skip
        print(
            f"\ncontent read: {len(first.content)} bytes, wrk -t1 -c{CONNECTIONS} -d{DURATION}, "
            f"{ROUNDS} interleaved rounds, medians"
        )
        revalidate = {**consumer, "If-None-Match": first.headers["etag"]}
        runs: dict[str, list[tuple[float, ...]]] = {"ceiling": [], "ok": [], "304": []}
        # Interleaved rounds and medians: on a shared machine the speed drifts within a minute,
        # and a ratio of two runs far apart in time measures the drift.
        for _ in range(ROUNDS):
            # The ceiling gets the consumer's request too, key included: the servers differ,
            # not what they are sent.
            ceiling_url = f"http://127.0.0.1:{ceiling_port}/"
            runs["ceiling"].append(measured(ceiling, ceiling_url, consumer))
            runs["ok"].append(measured(service, url, consumer))
            runs["304"].append(measured(service, url, revalidate))
        top = _median(runs["ceiling"])
        print(
            f"{'':<44} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'of ceiling':>11}"
            f" {'CPU us/req':>11} {'of ceiling':>11}"
        )
        for name, (rate, p50, p99, cpu) in (
            ("ceiling: bare ASGI app, same bytes (200)", top),
            ("content service, cached condition (200)", _median(runs["ok"])),
            ("content service, If-None-Match (304)", _median(runs["304"])),
        ):
            print(
                f"{name:<44} {rate:>9,.0f} {p50:>7.2f} {p99:>7.2f} {rate / top[0]:>10.2f}x"
                f" {cpu:>11.1f} {top[3] / cpu:>10.2f}x"
            )
        for name in ("ok", "304"):
            ratios = [r[0] / c[0] for r, c in zip(runs[name], runs["ceiling"], strict=True)]
            print(f"  {name} of ceiling per round: " + ", ".join(f"{x:.2f}x" for x in ratios))
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
