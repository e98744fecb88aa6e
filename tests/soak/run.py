"""The soak: the local stack with its own PostgreSQL and NATS, inquiries at a steady rate, a
random process (service or partner) killed with SIGKILL and restarted every `kill_every`
seconds. Outbox rows and consumer lag are sampled throughout; at the end the totals are
reconciled from rows and stream messages (tests/faults/ledger.py) and the offer latency (from
the coordinator's confirmation request to the partner's offer in the stream) is reported
outside the fault windows. The report goes to stdout and to .soak/report-<time>.txt, the stack's
log beside it."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from deploy.stack.files import REPO
from services.runtime.core.outages import TRANSIENT
from services.runtime.core.pacing import wait_any
from tests.faults.ledger import Ledger, fault_table, percentile, read_ledger, settle
from tests.faults.stack import Fault, FaultyStack, running_stack
from tests.faults.traffic import Traffic

PROGRESS_EVERY = 30.0
SAMPLE_EVERY = 5.0
# After a process is back, its backlog drains: latencies this long after are still the fault's.
FAULT_TAIL = 10.0
SETTLE_DEADLINE = 300.0
OFFER_P99_TARGET = 0.250
REPORTS = REPO / ".soak"


@dataclass(frozen=True)
class SoakPlan:
    minutes: float
    rate: float
    kill_every: float
    seed: int | None = None


@dataclass
class Samples:
    """(seconds since start, outbox rows, consumer lag) every SAMPLE_EVERY seconds."""

    rows: list[tuple[float, int, int]] = field(default_factory=list)

    def peak(self, column: int) -> int:
        return max((r[column] for r in self.rows), default=0)


async def soak(plan: SoakPlan) -> bool:
    with tempfile.TemporaryDirectory(prefix="carebridge-soak-") as root:
        async with running_stack(Path(root) / "stack") as stack:
            say(
                f"stack up in {root}; {plan.minutes:g} min at {plan.rate:g} inquiries/s, "
                f"a process killed every {plan.kill_every:g} s"
            )
            traffic = Traffic(stack.manifest, rate=plan.rate, run_id=uuid.uuid4().hex[:8])
            samples = Samples()
            began = time.monotonic()
            stop = asyncio.Event()
            tasks = [
                asyncio.create_task(traffic.run(stop)),
                asyncio.create_task(kill_at_random(stack, plan, stop)),
                asyncio.create_task(sample(stack, samples, began, stop)),
                asyncio.create_task(progress(stack, traffic, samples, began, stop)),
            ]
            await asyncio.sleep(plan.minutes * 60)
            stop.set()
            await asyncio.gather(*tasks)
            say("flow stopped; waiting for every booking to finish")
            ledger = await settle(stack, 2 * len(traffic.inquiries), SETTLE_DEADLINE)
            errors = stack.errors_logged()
        text, ok = report(plan, stack.faults, traffic, samples, ledger, errors)
        REPORTS.mkdir(exist_ok=True)
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        path = REPORTS / f"report-{stamp}.txt"
        path.write_text(text + "\n")
        # What every process logged, for the figures' story; the rest of the stack goes.
        shutil.copy(stack.log, REPORTS / f"stack-{stamp}.log")
    print(text)
    print(f"report saved in {path}, the stack's log beside it")
    return ok


async def kill_at_random(stack: FaultyStack, plan: SoakPlan, stop: asyncio.Event) -> None:
    chooser = random.Random(plan.seed)  # noqa: S311 - choosing victims, not secrets
    names = sorted({c.name for c in (*stack.stack.services, *stack.stack.partners)})
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), plan.kill_every)
        except TimeoutError:
            victim = chooser.choice(names)
            fault = await stack.kill(victim)
            say(
                f"killed {victim} (in flight {fault.in_flight}), back after "
                f"{fault.recovered - fault.began:.1f}s"
            )


async def sample(stack: FaultyStack, samples: Samples, began: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            outbox = await stack.outbox_rows()
        except TRANSIENT:
            outbox = -1
        lag = await stack.consumer_lag()
        samples.rows.append((time.monotonic() - began, outbox, lag))
        await wait_any(stop, timeout=SAMPLE_EVERY)


async def progress(
    stack: FaultyStack, traffic: Traffic, samples: Samples, began: float, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), PROGRESS_EVERY)
        except TimeoutError:
            ledger = await read_ledger(stack.database_url, stack.admin)
            done = sum(1 for b in ledger.bookings if b.status == "completed")
            last = samples.rows[-1] if samples.rows else (0.0, 0, 0)
            say(
                f"{(time.monotonic() - began) / 60:5.1f} min: {len(traffic.inquiries)} "
                f"inquiries, {ledger.confirmed_inquiries} confirmed, {done}/"
                f"{len(ledger.bookings)} bookings completed, outbox {last[1]}, lag {last[2]}, "
                f"{len(stack.faults)} kills"
            )


def in_fault_window(at: float, faults: list[Fault]) -> bool:
    return any(f.began <= at <= f.recovered + FAULT_TAIL for f in faults)


def report(
    plan: SoakPlan,
    faults: list[Fault],
    traffic: Traffic,
    samples: Samples,
    ledger: Ledger,
    errors: list[str],
) -> tuple[str, bool]:
    inquiries = traffic.inquiries
    latencies = ledger.offer_latencies(inquiries)
    grouped = ledger.by_inquiry()
    confirming = {b.id: i.confirming_at for i in inquiries for b in grouped.get(i.id, [])}
    calm = [v for k, v in latencies.items() if not in_fault_window(confirming[k], faults)]
    lost = sum(ledger.lost(i) for i in inquiries)
    duplicated = sum(ledger.duplicated(i) for i in inquiries)
    outbox = sum(ledger.outbox_rows.values())
    letters = sum(len(v) for v in ledger.dead_letters.values())
    p99 = percentile(calm, 0.99)
    reconciled = (
        not traffic.failures
        and ledger.confirmed_inquiries == len(inquiries)
        and len(ledger.bookings) == 2 * len(inquiries)
        and lost == duplicated == outbox == letters == 0
    )
    ok = reconciled and p99 <= OFFER_P99_TARGET and not errors
    ms = 1000.0
    lines = [
        f"soak: {plan.minutes:g} min at {plan.rate:g} inquiries/s, a random process killed "
        f"every {plan.kill_every:g} s ({len(faults)} kills)",
        f"inquiries submitted {len(inquiries)}, confirmed {ledger.confirmed_inquiries}; "
        f"bookings {len(ledger.bookings)} of {2 * len(inquiries)} expected, "
        f"{sum(1 for b in ledger.bookings if b.status == 'completed')} completed",
        f"lost {lost}, duplicated {duplicated}, outbox rows left {outbox}, dead letters "
        f"{letters}, client requests given up {len(traffic.failures)}, errors logged "
        f"{len(errors)}",
        f"offer latency outside fault windows ({len(calm)} offers): p50 "
        f"{percentile(calm, 0.50) * ms:.0f} ms, p99 {p99 * ms:.0f} ms, max "
        f"{max(calm, default=0.0) * ms:.0f} ms (target p99 <= {OFFER_P99_TARGET * ms:.0f} ms)",
        f"offer latency overall ({len(latencies)} offers): p99 "
        f"{percentile(list(latencies.values()), 0.99) * ms:.0f} ms, max "
        f"{max(latencies.values(), default=0.0) * ms:.0f} ms",
        f"sampled every {SAMPLE_EVERY:g} s: outbox rows max {samples.peak(1)}, consumer lag max "
        f"{samples.peak(2)}",
        f"client answers by status: {dict(sorted(traffic.statuses.items()))}",
        "",
        fault_table(faults, inquiries, ledger),
        "",
        f"verdict: {'PASS' if ok else 'FAIL'} (reconciled: {reconciled})",
        *(f"  error logged: {e}" for e in errors[:10]),
        *(f"  gave up: {f}" for f in traffic.failures[:10]),
    ]
    return "\n".join(lines), ok


def say(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)
