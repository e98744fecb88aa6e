"""`make bench`: every benchmark, on real servers, one table per benchmark.
`python -m tests.perf inquiries` runs only the ones named;
`python -m tests.perf content --documents 10000` adds a generated catalogue of that size to the
content benchmark (uncached lists and search, a sync full pass, memory)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Sequence

import uvloop

from tests.perf import (
    content_bench,
    inquiries_bench,
    logistics_bench,
    runtime_bench,
    support_bench,
)
from tests.perf.servers import Servers, bench_servers

BENCHMARKS: dict[str, Callable[[Servers], Awaitable[None]]] = {
    "runtime": lambda servers: runtime_bench.run(servers.database_url, servers.nats_url),
    "content": content_bench.run,
    "inquiries": inquiries_bench.run,
    "logistics": lambda servers: logistics_bench.run(servers.database_url, servers.nats_url),
    "support": lambda servers: support_bench.run(servers.database_url, servers.nats_url),
}


async def run(names: Sequence[str]) -> None:
    with bench_servers() as servers:
        for name in names:
            await BENCHMARKS[name](servers)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.perf")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run, of {list(BENCHMARKS)}")
    parser.add_argument(
        "--documents", type=int, default=0, help="content: publish a catalogue of this many"
    )
    args = parser.parse_args()
    content_bench.DOCUMENTS = args.documents
    names = args.names or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        sys.exit(f"unknown benchmarks {sorted(unknown)}; choose from {list(BENCHMARKS)}")
    # What runs in process (relays, consumers, partners) runs on the services' own loop.
    uvloop.run(run(names))


if __name__ == "__main__":
    main()
