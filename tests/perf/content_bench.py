"""Content read benchmark: one condition served by the content service (one granian worker,
from its in-process cache) as identity and br, a 304 revalidation, the first list page and a
search page (cached too), the same identity bytes from a bare ASGI app (the ceiling) and the
same br bytes from nginx (one worker, `brotli_static`, when nginx and its brotli_static
module are installed), all measured by wrk in the same run."""

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
import msgspec

from deploy.embedded import free_port
from services.content.app import DEFINITION
from services.content.representation import COLLECTION
from services.content.usecases.seeding import seed_content
from services.runtime.access import api_keys
from services.runtime.core.db import Pool, create_pool
from services.runtime.messaging.outbox import Outbox
from services.runtime.service.factory import prepare_database
from services.runtime.service.serve import EVENT_LOOP
from tests.perf import catalogue
from tests.perf.servers import Servers

URL_PATH = "/v1/conditions/mitral-valve-insufficiency"
LIST = "/v1/conditions?limit=20"
SEARCH = "/v1/search?q=valve&locale=en"
DURATION = "10s"
SECONDS = 10.0
CONNECTIONS = 32
ROUNDS = 3
# Documents of the generated catalogue (`--documents`); 0 leaves the catalogue part out.
DOCUMENTS = 0
# Uncached reads are measured as the issue states its targets: 16 connections.
UNCACHED_CONNECTIONS = 16
PUBLISHES = 50
# nginx's brotli_static module (Debian: libnginx-mod-http-brotli-static, with nginx-light).
NGINX_BROTLI = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")


def wrk(
    url: str,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    connections: int | None = None,
) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 in ms; `script` is a wrk Lua script (to POST, say)."""
    command = [
        "wrk", "-t1", f"-c{connections or CONNECTIONS}", f"-d{DURATION}", "--latency", url
    ]  # fmt: skip
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
    ceiling = nginx = None
    tmp_dir = Path(tempfile.mkdtemp(prefix="carebridge-content-bench-"))
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
        brotli = {**consumer, "Accept-Encoding": "br"}
        base = f"http://127.0.0.1:{port}"
        compressed = httpx.get(url, headers=brotli)
        print(
            f"br: {len(compressed.content):,} bytes decoded from "
            f"{compressed.headers['content-length']} on the wire"
        )
        nginx = _nginx(tmp_dir, first.content, _raw(url, brotli))
        # (label, url, headers): each read once first, so it is cached before it is measured.
        rows = {
            "ok": ("content service, cached condition (200)", url, consumer),
            "br": ("content service, cached condition, br (200)", url, brotli),
            "304": ("content service, If-None-Match (304)", url, revalidate),
            "list": ("content service, cached first list page (200)", LIST, consumer),
            "search": ("content service, cached search page (200)", SEARCH, consumer),
        }
        for _, path, headers in rows.values():
            httpx.get(path if path.startswith("http") else base + path, headers=headers)
        runs: dict[str, list[tuple[float, ...]]] = {"ceiling": [], **{name: [] for name in rows}}
        if nginx is not None:
            runs["nginx"] = []
        # Interleaved rounds and medians: on a shared machine the speed drifts within a minute,
        # and a ratio of two runs far apart in time measures the drift.
        for _ in range(ROUNDS):
            # The ceiling gets the consumer's request too, key included: the servers differ,
            # not what they are sent.
            ceiling_url = f"http://127.0.0.1:{ceiling_port}/"
            runs["ceiling"].append(measured(ceiling, ceiling_url, consumer))
            if nginx is not None:
                nginx_process, nginx_url = nginx
                runs["nginx"].append(measured(nginx_process, nginx_url, brotli))
            for name, (_, path, headers) in rows.items():
                target = path if path.startswith("http") else base + path
                runs[name].append(measured(service, target, headers))
        _report(runs, {name: label for name, (label, _, _) in rows.items()})
        if DOCUMENTS:
            await _catalogue(servers, env, service, base, consumer)
    finally:
        for process in (service, ceiling, None if nginx is None else nginx[0]):
            if process is not None:
                process.terminate()
                process.wait(10)
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _report(runs: dict[str, list[tuple[float, ...]]], labels: dict[str, str]) -> None:
    """The medians of the interleaved rounds, beside the ceiling (and nginx, when measured)."""
    top = _median(runs["ceiling"])
    print(
        f"{'':<48} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'of ceiling':>11}"
        f" {'CPU us/req':>11} {'of ceiling':>11}"
    )
    table = [("ceiling: bare ASGI app, same bytes (200)", top)]
    if "nginx" in runs:
        table.append(("nginx: same br bytes (brotli_static, 1 worker)", _median(runs["nginx"])))
    table += [(label, _median(runs[name])) for name, label in labels.items()]
    for label, (rate, p50, p99, cpu) in table:
        print(
            f"{label:<48} {rate:>9,.0f} {p50:>7.2f} {p99:>7.2f} {rate / top[0]:>10.2f}x"
            f" {cpu:>11.1f} {top[3] / cpu:>10.2f}x"
        )
    for name in labels:
        ratios = [r[0] / c[0] for r, c in zip(runs[name], runs["ceiling"], strict=True)]
        print(f"  {name} of ceiling per round: " + ", ".join(f"{x:.2f}x" for x in ratios))
    if "nginx" in runs:
        ratios = [r[0] / n[0] for r, n in zip(runs["br"], runs["nginx"], strict=True)]
        print(
            "  br of nginx (same br bytes) per round: "
            + ", ".join(f"{x:.2f}x" for x in ratios)
            + f"; median {statistics.median(ratios):.2f}x"
        )


async def _catalogue(
    servers: Servers,
    env: dict[str, str],
    service: subprocess.Popen[bytes],
    base: str,
    consumer: dict[str, str],
) -> None:
    """The generated catalogue: published through the use cases while the cached service
    listens, then read uncached from a second replica whose cache holds nothing
    (`CONTENT_CACHE_BYTES=1`: every answer is larger than that)."""
    pool = await create_pool(servers.database_url, schema=DEFINITION.schema, min_size=1, max_size=4)
    try:
        outbox = Outbox(source="/carebridge/content", schema=DEFINITION.schema)
        started = time.perf_counter()
        count = await catalogue.publish_catalogue(pool, outbox, DOCUMENTS, now=datetime.now(UTC))
        took = time.perf_counter() - started
        async with pool.acquire() as conn:
            total = await conn.fetchval("SELECT count(*) FROM published")
        print(
            f"\ncatalogue: {count:,} documents published in {took:.1f} s "
            f"({count / took:,.0f}/s), {total:,} in all, en and de"
        )
        visible = await _publish_to_visible(pool, outbox, base, consumer)
    finally:
        await pool.close()
    print(
        f"publish -> visible on the cached replica ({len(visible)} publishes): "
        f"p50 {statistics.median(visible):.1f} ms, p99 {_p99(visible):.1f} ms"
    )
    port = free_port()
    uncached = serve(
        [sys.executable, "-m", "services.content"],
        {**env, "PORT": str(port), "CONTENT_CACHE_BYTES": "1"},
        port,
    )
    try:
        other = f"http://127.0.0.1:{port}"
        _sync_full_pass(other, consumer)
        rows = {
            "first list page, uncached": f"{other}{LIST}",
            "first list page, cached": f"{base}{LIST}",
            f"search common word ({catalogue.COMMON['en']}, en), uncached":
                f"{other}/v1/search?q={catalogue.COMMON['en']}&locale=en",
            f"search common word ({catalogue.COMMON['de']}, de), uncached":
                f"{other}/v1/search?q={catalogue.COMMON['de']}&locale=de",
            "search rare word, uncached": f"{other}/v1/search?q={catalogue.rare_word(1)}&locale=en",
            f"search typo ({catalogue.TYPO['en']}, en), uncached":
                f"{other}/v1/search?q={catalogue.TYPO['en']}&locale=en",
            f"search typo ({catalogue.TYPO['de']}, de), uncached":
                f"{other}/v1/search?q={catalogue.TYPO['de']}&locale=de",
        }  # fmt: skip
        print(
            f"{'wrk -c' + str(UNCACHED_CONNECTIONS):<48} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7}"
        )
        for label, url in rows.items():
            rate, p50, p99 = wrk(url, consumer, connections=UNCACHED_CONNECTIONS)
            print(f"{label:<48} {rate:>9,.0f} {p50:>7.2f} {p99:>7.2f}")
        print(f"memory of the cached replica (RSS): {_rss_mb(service.pid):,.0f} MB")
    finally:
        uncached.terminate()
        uncached.wait(10)


class _SyncPage(msgspec.Struct):
    """What a mirror reads of a sync page to go on: its documents stay raw JSON here."""

    published: list[msgspec.Raw]
    token: str
    more: bool


def _sync_full_pass(base: str, consumer: dict[str, str]) -> None:
    """A mirror's first sync, as a site's would run it: page after page while `more`, on one
    connection, each page parsed (msgspec) for its token and documents."""
    documents = pages = wire = decoded = 0
    token: str | None = None
    started = time.perf_counter()
    with httpx.Client(base_url=base, headers=consumer, timeout=120) as client:
        while True:
            answer = client.get("/v1/sync", params={} if token is None else {"token": token})
            answer.raise_for_status()
            page = msgspec.json.decode(answer.content, type=_SyncPage)
            pages += 1
            documents += len(page.published)
            wire += answer.num_bytes_downloaded
            decoded += len(answer.content)
            token = page.token
            if not page.more:
                break
    took = time.perf_counter() - started
    print(
        f"sync full pass (uncached): {documents:,} documents in {pages} pages, "
        f"{decoded / 1e6:,.1f} MB ({wire / 1e6:,.1f} MB on the wire, "
        f"{answer.headers.get('content-encoding', 'identity')}) in {took:.2f} s"
    )


async def _publish_to_visible(
    pool: Pool, outbox: Outbox, base: str, consumer: dict[str, str]
) -> list[float]:
    """Milliseconds from an editor's publish (the use case called here) to the new revision
    answered by the service's replica, whose cache held the old one: the event's way through
    the outbox, NATS and the replica's invalidation."""
    raw = catalogue.documents(1)[0]
    url = f"{base}/v1/{COLLECTION[raw['kind']]}/{raw['slug']}"
    latencies = []
    async with httpx.AsyncClient(headers=consumer) as client:
        for n in range(PUBLISHES):
            raw["translations"]["en"]["summary"] += f" Revised ({n})."
            before = (await client.get(url)).json()["revision"]
            await client.get(url)  # now cached
            started = time.perf_counter()
            await catalogue.republish(pool, outbox, raw, now=datetime.now(UTC))
            revision = before
            while revision == before:  # each read is the wait: no sleep to blur the figure
                revision = (await client.get(url)).json()["revision"]
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _raw(url: str, headers: dict[str, str]) -> bytes:
    """The body as sent on the wire (still in its content coding)."""
    with httpx.stream("GET", url, headers=headers) as response:
        response.raise_for_status()
        return b"".join(response.iter_raw())


def _nginx(
    folder: Path, identity: bytes, brotli: bytes
) -> tuple[subprocess.Popen[bytes], str] | None:
    """nginx serving the page's identity bytes and, beside them, the very br bytes the service
    sends (`brotli_static`: the .br file, no compression per request). One worker, as the
    service has; None (with a message) when nginx or its brotli_static module is missing."""
    if shutil.which("nginx") is None or not NGINX_BROTLI.exists():
        print(
            "nginx row skipped: nginx with brotli_static is not installed "
            "(Debian: apt-get install nginx-light libnginx-mod-http-brotli-static)"
        )
        return None
    (folder / "page.json").write_bytes(identity)
    (folder / "page.json.br").write_bytes(brotli)
    # nginx's worker runs as an unprivileged user: the folder (mkdtemp's, 0700) must be open.
    folder.chmod(0o755)
    for name in ("page.json", "page.json.br"):
        (folder / name).chmod(0o644)
    port = free_port()
    config = folder / "nginx.conf"
    config.write_text(
        f"""load_module {NGINX_BROTLI};
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    types {{ application/json json; }}
    server {{
        listen 127.0.0.1:{port};
        root {folder};
        brotli_static on;
        location / {{ }}
    }}
}}
"""
    )
    process = subprocess.Popen(
        ["nginx", "-c", str(config), "-p", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/page.json"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if _raw(url, {"Accept-Encoding": "br"}) == brotli:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("nginx did not serve the br bytes")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _rss_mb(root: int) -> float:
    """Resident memory of `root` and its children (granian's worker), in MB."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, parent = int(entry.name), int(fields["PPid"])
        if root in (pid, parent) and "VmRSS" in fields:
            total += int(fields["VmRSS"].split()[0])
    return total / 1024


async def _seed(database_url: str) -> str:
    """Seed content and return a new API key for the readers."""
    pool = await create_pool(database_url, schema=DEFINITION.schema, min_size=1, max_size=2)
    try:
        await prepare_database(pool, DEFINITION)
        outbox = Outbox(source="/carebridge/content", schema=DEFINITION.schema)
        await seed_content(pool, outbox, now=datetime.now(UTC), review_required=False)
        async with pool.acquire() as conn:
            _, key = await api_keys.create_api_key(
                conn, name=f"bench-{uuid.uuid4().hex[:8]}", origins=(), rate_per_minute=10**9
            )
        return key
    finally:
        await pool.close()
