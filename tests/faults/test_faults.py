"""While inquiries flow through submission, the coordinator's steps, bookings, offers and partner
replies, every process of the stack is killed with SIGKILL once and started again, and the NATS
server and PostgreSQL are each restarted on their data. Afterwards every inquiry's bookings are
in their final state exactly once: nothing lost, nothing doubled, outboxes empty, no dead
letters; counted from the rows and the stream, and reported as a table."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from tests.faults.ledger import fault_table, settle
from tests.faults.stack import SCHEMAS, FaultyStack, running_stack
from tests.faults.traffic import Traffic

pytestmark = [pytest.mark.faults, pytest.mark.timeout(360)]

# Every process of the stack once and both servers, interleaved, so each fault meets the
# backlog the one before left.
FAULTS = (
    "inquiries",
    "logistics",
    "rhein-shuttle",
    "nats",
    "content",
    "medilingua",
    "postgres",
    "hessen-pharma-express",
)
RATE = 1.0  # inquiries a second, for as long as the faults last
GAP = 2.0  # seconds of calm before each fault
SETTLE_DEADLINE = 90.0


async def inject(stack: FaultyStack, targets: tuple[str, ...], gap: float) -> None:
    for target in targets:
        await asyncio.sleep(gap)
        if target in ("postgres", "nats"):
            await stack.restart(target)
        else:
            await stack.kill(target)


async def test_every_booking_reaches_its_final_state_once_through_kills_and_restarts(
    tmp_path: Path, report: list[str]
) -> None:
    async with running_stack(tmp_path / "stack") as stack:
        traffic = Traffic(stack.manifest, rate=RATE, run_id=uuid.uuid4().hex[:8])
        stop = asyncio.Event()
        driving = asyncio.create_task(traffic.run(stop))
        try:
            await inject(stack, FAULTS, GAP)
            await asyncio.sleep(GAP)
        finally:
            stop.set()
            await driving
        inquiries = traffic.inquiries
        assert traffic.failures == []
        # Outages answer 503 (retry shortly), never 500.
        assert 500 not in traffic.statuses, traffic.statuses
        ledger = await settle(stack, 2 * len(inquiries), SETTLE_DEADLINE)
        left_in_flight = await stack.in_flight()

    table = fault_table(stack.faults, inquiries, ledger)
    (tmp_path / "faults.txt").write_text(table + "\n")
    report.append(f"{table}\nanswers by status: {dict(sorted(traffic.statuses.items()))}")
    assert [f.target for f in stack.faults] == list(FAULTS)
    assert sum(ledger.lost(i) for i in inquiries) == 0
    assert sum(ledger.duplicated(i) for i in inquiries) == 0
    assert ledger.confirmed_inquiries == len(inquiries)
    assert len(ledger.bookings) == 2 * len(inquiries)
    assert left_in_flight == 0
    assert stack.errors_logged() == []
    assert ledger.outbox_rows == dict.fromkeys(SCHEMAS, 0)
    assert ledger.dead_letters == {schema: [] for schema in SCHEMAS}
    # While PostgreSQL was away every service said it was not ready; while NATS was away every
    # service but content did: content serves reads from PostgreSQL and its cache, and stays in
    # the load balancer with degraded invalidation (docs/operations/observability.md).
    for fault in stack.faults:
        if fault.readiness is None:
            continue
        for service, answers in fault.readiness.items():
            if fault.target == "nats" and service == "content":
                assert answers == {200}, fault
            else:
                assert 503 in answers, fault
