"""A partner id is its NATS user name: one a service or the admin has would make NATS refuse
its configuration at the next start (issue 15, finding 4), so registration refuses it."""

from __future__ import annotations

import pytest

from contracts.registry import RESERVED_PARTNER_IDS
from tests.integration.logistics.conftest import Client
from tests.logistics_samples import partner


@pytest.mark.parametrize("partner_id", ["logistics", "inquiries", "content", "carebridge-admin"])
async def test_a_partner_cannot_take_a_reserved_id(
    client: Client, coordinator: dict[str, str], partner_id: str
) -> None:
    put = await client.put(
        f"/v1/partners/{partner_id}",
        json=partner(partner_id, "transfer"),
        headers=coordinator,
    )
    posted = await client.post(
        "/v1/partners", json=partner(partner_id, "transfer"), headers=coordinator
    )
    listed = await client.get("/v1/partners", headers=coordinator)

    for answer in (put, posted):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        [problem] = answer.json()["errors"]
        assert problem["field"] == "id"
        assert "reserved" in problem["message"]
    assert partner_id in RESERVED_PARTNER_IDS
    assert listed.json() == []
