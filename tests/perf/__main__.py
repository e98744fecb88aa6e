"""`make bench`: every benchmark, on real servers, one table per benchmark."""

from __future__ import annotations

import asyncio

from tests.perf import content_bench, logistics_bench, runtime_bench
from tests.perf.servers import bench_servers


async def run_all() -> None:
    with bench_servers() as servers:
        await runtime_bench.run(servers.database_url, servers.nats_url)
        await content_bench.run(servers)
        await logistics_bench.run(servers.database_url, servers.nats_url)


def main() -> None:
    asyncio.run(run_all())


if __name__ == "__main__":
    main()
