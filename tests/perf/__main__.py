"""`make bench`: every benchmark, on real servers, one table per benchmark."""

from __future__ import annotations

import asyncio

from tests.perf import runtime_bench


def main() -> None:
    asyncio.run(runtime_bench.main())


if __name__ == "__main__":
    main()
