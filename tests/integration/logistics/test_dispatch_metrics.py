"""What operators watch of dispatch, on the metrics page: offers by outcome, dispatches by
outcome and how long they took; offers per booking is their ratio."""

from __future__ import annotations

import re
import uuid

from contracts.partners import OfferAccepted, OfferDeclined
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import Start, Tap, reply
from tests.integration.logistics.test_dispatch import confirm, confirmed, offer_to
from tests.logistics_samples import partner, transfer
from tests.support import eventually
from tests.support.metrics import metrics_page, own_metrics_port


def sample(page: str, name: str, **labels: str) -> float:
    """The value of one series of the page; 0 when absent."""
    for line in page.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


async def test_offers_and_dispatches_are_counted_by_outcome_with_their_time(
    start: Start, coordinator: dict[str, str], bus: Bus, offers: Tap
) -> None:
    async with start(**own_metrics_port()) as client:
        for partner_id, priority in (("main-taxi", 20), ("rhein-shuttle", 10)):
            response = await client.post(
                "/v1/partners",
                json=partner(partner_id, "transfer", priority=priority),
                headers=coordinator,
            )
            assert response.status_code == 201, response.text
        await confirm(bus, confirmed(str(uuid.uuid4()), ("transfer", transfer())))
        first = offer_to(await offers.until(lambda s: len(s) == 1), "main-taxi")
        await reply(bus, "main-taxi", OfferDeclined(offer_id=first.offer_id, reason="other"))
        second = offer_to(await offers.until(lambda s: len(s) == 2), "rhein-shuttle")
        await reply(bus, "rhein-shuttle", OfferAccepted(offer_id=second.offer_id))

        async def dispatched() -> str | None:
            page = await metrics_page(client)
            return page if sample(page, "outcomes_total", what="dispatch") else None

        page = await eventually(dispatched)

    assert sample(page, "outcomes_total", what="offer", outcome="declined") == 1
    assert sample(page, "outcomes_total", what="offer", outcome="accepted") == 1
    assert sample(page, "outcomes_total", what="dispatch", outcome="accepted") == 1
    assert sample(page, "outcomes_total", what="dispatch", outcome="unassigned") == 0
    assert sample(page, "outcome_seconds_count", what="dispatch", outcome="accepted") == 1
    assert 0 < sample(page, "outcome_seconds_sum", what="dispatch", outcome="accepted") < 60
    # The process's own series, as Prometheus' default registry has them.
    memory = re.search(r"^process_resident_memory_bytes (\S+)$", page, re.MULTILINE)
    assert memory is not None
    assert float(memory.group(1)) > 1e6
    assert sample(page, "python_gc_collections_total", generation="0") > 0
