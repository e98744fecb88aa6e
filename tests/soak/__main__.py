"""`python -m tests.soak --minutes 30 --rate 1 --kill-every 60`; exits 1 unless the totals
reconcile and the offer latency holds outside fault windows."""

from __future__ import annotations

import argparse
import asyncio
import sys

from tests.soak.run import SoakPlan, soak


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the flow")
    parser.add_argument("--rate", type=float, default=1.0, help="inquiries a second")
    parser.add_argument(
        "--kill-every", type=float, default=60.0, help="seconds between process kills"
    )
    parser.add_argument("--seed", type=int, default=None, help="fixes the choice of victims")
    args = parser.parse_args()
    plan = SoakPlan(
        minutes=args.minutes, rate=args.rate, kill_every=args.kill_every, seed=args.seed
    )
    sys.exit(0 if asyncio.run(soak(plan)) else 1)


if __name__ == "__main__":
    main()
