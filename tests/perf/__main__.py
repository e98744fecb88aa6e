"""`make bench`: every benchmark, on real servers, one table per benchmark.
`python -m tests.perf inquiries` runs only the ones named."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence

import uvloop

from tests.perf import content_bench, inquiries_bench, logistics_bench, runtime_bench
from tests.perf.servers import Servers, bench_servers

BENCHMARKS: dict[str, Callable[[Servers], Awaitable[None]]] = {
    "runtime": lambda servers: runtime_bench.run(servers.database_url, servers.nats_url),
    "content": content_bench.run,
    "inquiries": inquiries_bench.run,
    "logistics": lambda servers: logistics_bench.run(servers.database_url, servers.nats_url),
}


async def run(names: Sequence[str]) -> None:
    with bench_servers() as servers:
        for name in names:
            await BENCHMARKS[name](servers)


def main() -> None:
    names = sys.argv[1:] or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        sys.exit(f"unknown benchmarks {sorted(unknown)}; choose from {list(BENCHMARKS)}")
    # What runs in process (relays, consumers, partners) runs on the services' own loop.
    uvloop.run(run(names))


if __name__ == "__main__":
    main()
