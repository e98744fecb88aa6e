"""Two instances of every service on one database and one set of streams, as replicas behind a
balancer: both share the work (each relay publishes, each consumer applies some of it), and
nothing is done twice: every booking once, every offer sent once, outboxes empty."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from tests.faults.ledger import settle
from tests.faults.stack import SCHEMAS, running_stack, work_done
from tests.faults.traffic import Traffic

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

RATE = 3.0
DURATION = 10.0
SERVICES = ("content", "inquiries", "logistics")


async def test_two_instances_of_each_service_share_the_work_and_never_do_it_twice(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path / "stack") as stack:
        for name in SERVICES:
            await stack.add_replica(name)
        instances = {
            name: [s.url for s in stack.stack.services if s.name == name] for name in SERVICES
        }
        assert all(len(urls) == 2 for urls in instances.values())
        pages = {s.url: s.metrics_url or "" for s in stack.stack.services}
        before = {url: await work_done(pages[url]) for urls in instances.values() for url in urls}
        traffic = Traffic(
            stack.manifest, rate=RATE, run_id=uuid.uuid4().hex[:8], urls=instances["inquiries"]
        )
        stop = asyncio.Event()
        driving = asyncio.create_task(traffic.run(stop))
        await asyncio.sleep(DURATION)
        stop.set()
        await driving
        assert traffic.failures == []
        inquiries = traffic.inquiries
        ledger = await settle(stack, 2 * len(inquiries), 90)
        after = {url: await work_done(pages[url]) for urls in instances.values() for url in urls}
        assert stack.errors_logged() == []

    # Never twice: each case booked once per kind, each booking offered once, all done.
    assert ledger.confirmed_inquiries == len(inquiries)
    assert len(ledger.bookings) == 2 * len(inquiries)
    assert sum(ledger.lost(i) for i in inquiries) == 0
    assert sum(ledger.duplicated(i) for i in inquiries) == 0
    assert ledger.outbox_rows == dict.fromkeys(SCHEMAS, 0)
    assert ledger.dead_letters == {schema: [] for schema in SCHEMAS}
    # Shared: both instances of inquiries and logistics published and applied some of it.
    for name in ("inquiries", "logistics"):
        for url in instances[name]:
            published = after[url][0] - before[url][0]
            applied = after[url][1] - before[url][1]
            assert published > 0, (name, url, published)
            assert applied > 0, (name, url, applied)
