"""Servers for a benchmark run: external ones from TEST_DATABASE_URL / TEST_NATS_URL, or
embedded ones started for the run and stopped afterwards."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.embedded import free_port, start_nats, start_postgres


@dataclass(frozen=True)
class Servers:
    database_url: str
    nats_url: str


@contextmanager
def bench_servers() -> Iterator[Servers]:
    database_url = os.environ.get("TEST_DATABASE_URL")
    nats_url = os.environ.get("TEST_NATS_URL")
    with tempfile.TemporaryDirectory(prefix="carebridge-bench-") as tmp:
        started = []
        if not database_url:
            # Durable settings: a benchmark on fsync=off would flatter every figure.
            pg = start_postgres(Path(tmp) / "pg", free_port())
            started.append(pg)
            database_url = pg.url()
        if not nats_url:
            nats = start_nats(Path(tmp) / "nats", free_port())
            started.append(nats)
            nats_url = nats.url
        try:
            yield Servers(database_url, nats_url)
        finally:
            for server in reversed(started):
                server.stop()
