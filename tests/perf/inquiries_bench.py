"""Submission benchmark: `POST /v1/inquiries` on one granian worker, measured by wrk, beside
what the same work costs without HTTP and a bare asyncpg INSERT of the same row (the ceiling),
all in the same run against the same database.

Rows, fastest first:
- ceiling: the inquiry row alone, one INSERT per autocommit, with a sealed payload of the size
  the submission seals;
- the submission use case called directly: validation, encryption, the catalogue check and the
  inquiry, consent, timeline and outbox rows in one transaction, no HTTP;
- the service over HTTP, without an Idempotency-Key and with a fresh key per request (the stored
  answer is sealed and written too).
Every request creates an inquiry; the service's relay publishes their events meanwhile."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from deploy.embedded import free_port
from services.inquiries.app import DEFINITION
from services.inquiries.domain.intake import SubmitInquiry
from services.inquiries.domain.model import PersonalData
from services.inquiries.usecases import intake as usecases
from services.runtime.access import api_keys
from services.runtime.core.db import Pool, create_pool
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy.crypto import KeyRing, to_column
from services.runtime.service.factory import prepare_database
from tests.inquiry_samples import SUBMISSION
from tests.perf.content_bench import CONNECTIONS, serve, wrk
from tests.perf.servers import Servers

SLUG = "mitral-valve-insufficiency"
SECONDS = 10.0  # as long as each wrk run
# The consumer submitting: idempotency answers are kept per consumer.
CONSUMER = uuid.uuid4()
POOL_SIZE = 10  # the service's default DB_POOL_MAX, so both sides wait for connections alike


def submission(today: date) -> dict[str, Any]:
    return {
        "patient": {
            "full_name": "Olena Kovalenko",
            "date_of_birth": "1961-04-02",
            "sex": "female",
            "country": "UA",
            "language": "uk",
            "email": "olena@example.org",
            "phone": "+380501234567",
        },
        "condition_slug": SLUG,
        "description": "Shortness of breath on stairs for a year, echo shows severe regurgitation.",
        "diagnoses": ["mitral regurgitation, grade III"],
        "preferred_country": "DE",
        "preferred_dates": {
            "from": (today + timedelta(days=60)).isoformat(),
            "to": (today + timedelta(days=100)).isoformat(),
        },
        "services": ["transfer", "interpreter", "medicine_shipment", "support"],
        "consent": dict(SUBMISSION["consent"]),
        "source": "bench.example",
    }


def lua_script(body: bytes, api_key: str, *, idempotency_keys: bool) -> str:
    """A wrk script POSTing `body` as the consumer of `api_key`; with idempotency keys, each
    request carries a key never used before."""
    lines = [
        'wrk.method = "POST"',
        'wrk.headers["Content-Type"] = "application/json"',
        f'wrk.headers["X-API-Key"] = "{api_key}"',
        f"wrk.body = [==[{body.decode()}]==]",
    ]
    if idempotency_keys:
        # wrk.format replaces the headers table, so the content type goes in again.
        lines += [
            "local n = 0",
            f'local prefix = "bench-{uuid.uuid4().hex}-"',
            "request = function()",
            "  n = n + 1",
            '  return wrk.format(nil, nil, {["Content-Type"] = "application/json",',
            f'                               ["X-API-Key"] = "{api_key}",',
            '                               ["Idempotency-Key"] = prefix .. n}, nil)',
            "end",
        ]
    return "\n".join(lines) + "\n"


async def timed(
    pool: Pool, once: Callable[[], Awaitable[object]], concurrency: int = CONNECTIONS
) -> tuple[float, float, float]:
    """Rate/s, p50 and p99 in ms of `once`, run by `concurrency` loops for SECONDS."""
    latencies: list[float] = []
    deadline = time.perf_counter() + SECONDS

    async def worker() -> None:
        while (started := time.perf_counter()) < deadline:
            await once()
            latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return len(latencies) / elapsed, cuts[49], cuts[98]


async def run(servers: Servers) -> None:
    if shutil.which("wrk") is None:
        print("inquiries benchmark skipped: wrk is not installed (Debian: apt-get install wrk)")
        return
    keys_setting = KeyRing.generate_setting("bench1")
    keys = KeyRing.from_setting(keys_setting)
    body = msgspec.json.encode(submission(datetime.now(UTC).date()))
    request = msgspec.json.decode(body, type=SubmitInquiry)
    pool = await create_pool(
        servers.database_url, schema=DEFINITION.schema, min_size=POOL_SIZE, max_size=POOL_SIZE
    )
    port = free_port()
    service = None
    try:
        await prepare_database(pool, DEFINITION)
        await pool.execute(
            """INSERT INTO known_conditions (slug, revision, locales) VALUES ($1, 1, '{en}')
               ON CONFLICT DO NOTHING""",
            SLUG,
        )
        # Sites submit with an API key; its limit is far above what one machine can send.
        async with pool.acquire() as conn:
            _, api_key = await api_keys.create_api_key(
                conn, name=f"bench-{uuid.uuid4().hex[:8]}", origins=(), rate_per_minute=10**9
            )
        env = {
            "DATABASE_URL": servers.database_url,
            "NATS_URL": servers.nats_url,
            "PORT": str(port),
            "LOG_LEVEL": "warning",
            "NATS_NAMESPACE": "benchinquiries",
            "INQUIRIES_ENCRYPTION_KEYS": keys_setting,
        }
        service = serve([sys.executable, "-m", "services.inquiries"], env, port)
        sealed = to_column(
            keys.encrypt_json(
                PersonalData(
                    patient=msgspec.to_builtins(request.patient),
                    description=request.description,
                    diagnoses=request.diagnoses,
                    preferred_dates=msgspec.to_builtins(request.preferred_dates),
                ),
                aad=b"inquiry:bench:personal",
            )
        )
        outbox = Outbox(source="/carebridge/inquiries", schema=DEFINITION.schema)
        before = await pool.fetchval("SELECT count(*) FROM inquiries")

        async def bare_insert() -> None:
            # The row alone, as SQL of its own: the store writes it with its consents and trace.
            async with pool.acquire() as conn:
                await conn.execute(
                    """INSERT INTO inquiries (id, status, version, condition_slug,
                                              preferred_country, services, source, personal,
                                              key_id, access_token_hash, submitted_at,
                                              updated_at)
                       VALUES ($1, 'submitted', 1, $2, 'DE', $3, $4, $5, $6, $7, $8, $8)""",
                    uuid.uuid4(),
                    SLUG,
                    list(request.services),
                    request.source,
                    sealed,
                    keys.active,
                    secrets.token_bytes(32),
                    datetime.now(UTC),
                )

        async def use_case() -> None:
            await usecases.submit(
                pool,
                outbox,
                keys,
                request,
                body=body,
                consumer_id=CONSUMER,
                idempotency_key=None,
                now=datetime.now(UTC),
            )

        print(
            f"\ninquiry submission: {len(body)}-byte body, {len(sealed)}-byte sealed personal "
            f"data, {CONNECTIONS} concurrent clients, {SECONDS:.0f} s each, one granian worker"
        )
        print(f"{'':<52} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'of ceiling':>11}")
        results = [
            ("ceiling: bare asyncpg INSERT of the row", await timed(pool, bare_insert)),
            ("submission use case, no HTTP (4 rows, 1 tx)", await timed(pool, use_case)),
        ]
        url = f"http://127.0.0.1:{port}/v1/inquiries"
        with tempfile.TemporaryDirectory(prefix="carebridge-bench-") as tmp:
            for name, with_keys in (
                ("POST /v1/inquiries, no Idempotency-Key", False),
                ("POST /v1/inquiries, fresh Idempotency-Key", True),
            ):
                script = Path(tmp) / f"submit-{with_keys}.lua"
                script.write_text(lua_script(body, api_key, idempotency_keys=with_keys))
                results.append((name, await asyncio.to_thread(wrk, url, script=script)))
        ceiling = results[0][1][0]
        for name, (rate, p50, p99) in results:
            print(f"{name:<52} {rate:>10,.0f} {p50:>8.2f} {p99:>8.2f} {rate / ceiling:>10.2f}x")
        created = await pool.fetchval("SELECT count(*) FROM inquiries") - before
        print(f"({created:,} inquiries created)")
    finally:
        if service is not None:
            service.terminate()
            service.wait(10)
        await pool.close()
