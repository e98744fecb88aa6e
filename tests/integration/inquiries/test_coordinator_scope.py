"""Coordinators see the cases assigned to them and the unassigned queue; a lead coordinator and
admins see every case. Another coordinator's case is, for a coordinator, a 404: in lists, reads
and commands alike. Each staff read of a case is in the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest

from services.runtime.access import staff
from tests.integration.inquiries.casefile import CASES, Client, case, move, offer, step, submit


async def bearer(db: asyncpg.Connection, person: str, role: staff.Role) -> dict[str, str]:
    _, token = await staff.create_token(db, person=person, roles=(role,))
    return {"Authorization": f"Bearer {token}"}


async def listed(client: Client, headers: dict[str, str], query: str = "") -> set[str]:
    response = await client.get(f"{CASES}?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


@pytest.fixture
async def three(client: Client, casedb: asyncpg.Connection, lead: dict[str, str]) -> dict[str, str]:
    """A case claimed by Carla, one given to Dmytro by the lead, one unassigned."""
    carla = await bearer(casedb, "Carla", "coordinator")
    ids = {name: (await submit(client))["id"] for name in ("carla", "dmytro", "queue")}
    await step(client, carla, ids["carla"], "coordinator", {"coordinator": "Carla"})
    await step(client, lead, ids["dmytro"], "coordinator", {"coordinator": "Dmytro"})
    return ids


async def test_a_coordinator_sees_their_cases_and_the_queue_a_lead_sees_all(
    client: Client, casedb: asyncpg.Connection, lead: dict[str, str], three: dict[str, str]
) -> None:
    carla = await bearer(casedb, "Carla", "coordinator")
    admin = await bearer(casedb, "Ada", "admin")

    assert await listed(client, carla) == {three["carla"], three["queue"]}
    assert await listed(client, carla, "unassigned=true") == {three["queue"]}
    assert await listed(client, carla, "coordinator=Dmytro") == set()
    assert await listed(client, lead) == set(three.values())
    assert await listed(client, admin) == set(three.values())
    assert await listed(client, lead, "unassigned=true") == {three["queue"]}
    assert await listed(client, lead, "coordinator=Dmytro") == {three["dmytro"]}


async def test_another_coordinators_case_is_a_404_for_reads_and_commands(
    client: Client, casedb: asyncpg.Connection, lead: dict[str, str], three: dict[str, str]
) -> None:
    carla = await bearer(casedb, "Carla", "coordinator")
    theirs = f"{CASES}/{three['dmytro']}"
    before = await case(client, lead, three["dmytro"])

    read = await client.get(theirs, headers=carla)
    assert read.status_code == 404
    assert read.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"{theirs}/consents", headers=carla)).status_code == 404
    version = {"If-Match": f'"{before["version"]}"'}
    for method, path, body in (
        ("POST", "transitions", {"to": "in_review"}),
        ("POST", "notes", {"text": "not mine"}),
        ("PUT", "coordinator", {"coordinator": "Carla"}),
    ):
        answer = await client.request(
            method, f"{theirs}/{path}", json=body, headers=carla | version
        )
        assert answer.status_code == 404, (path, answer.text)

    after = await case(client, lead, three["dmytro"])
    assert (after["version"], after["notes"], after["coordinator"]) == (
        before["version"],
        [],
        "Dmytro",
    )
    # Dmytro himself, and the lead, read it; Carla's own and the queue's she reads.
    dmytro = await bearer(casedb, "Dmytro", "coordinator")
    assert (await client.get(theirs, headers=dmytro)).status_code == 200
    assert (await client.get(f"{CASES}/{three['carla']}", headers=carla)).status_code == 200
    assert (await client.get(f"{CASES}/{three['queue']}", headers=carla)).status_code == 200


async def test_a_coordinator_claims_from_the_queue_but_only_a_lead_assigns_others(
    client: Client, casedb: asyncpg.Connection, lead: dict[str, str], three: dict[str, str]
) -> None:
    carla = await bearer(casedb, "Carla", "coordinator")
    queued = await case(client, carla, three["queue"])
    refused = await client.put(
        f"{CASES}/{three['queue']}/coordinator",
        json={"coordinator": "Dmytro"},
        headers=carla | {"If-Match": f'"{queued["version"]}"'},
    )
    assert refused.status_code == 422
    assert "lead_coordinator" in refused.text
    assert (await case(client, carla, three["queue"]))["coordinator"] is None

    claimed = await step(client, carla, three["queue"], "coordinator", {"coordinator": "Carla"})
    assert claimed["coordinator"] == "Carla"
    released = await step(client, carla, three["queue"], "coordinator", {"coordinator": None})
    assert released["coordinator"] is None
    given = await step(client, lead, three["queue"], "coordinator", {"coordinator": "Dmytro"})
    assert given["coordinator"] == "Dmytro"
    assert (await client.get(f"{CASES}/{three['queue']}", headers=carla)).status_code == 404


async def test_mine_lists_only_the_callers_own_cases(
    client: Client, casedb: asyncpg.Connection, lead: dict[str, str], three: dict[str, str]
) -> None:
    carla = await bearer(casedb, "Carla", "coordinator")
    assert await listed(client, carla, "mine=true") == {three["carla"]}
    assert await listed(client, carla, "mine=true&coordinator=Carla") == {three["carla"]}
    # The lead sees every case, but "mine" is still only the lead's own: none here.
    assert await listed(client, lead, "mine=true") == set()
    refused = await client.get(f"{CASES}?mine=true&coordinator=Dmytro", headers=carla)
    assert refused.status_code == 400
    assert "coordinator" in refused.text


async def test_offers_expiring_lists_cases_whose_open_offer_lapses_before_the_time(
    client: Client, lead: dict[str, str], three: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    soon, later = three["carla"], three["dmytro"]
    for inquiry_id, days in ((soon, 2), (later, 30)):
        await move(client, lead, inquiry_id, "in_review")
        await step(client, lead, inquiry_id, "offers", offer(now + timedelta(days=days)))

    def before(days: int) -> str:
        return "offer_expires_before=" + quote((now + timedelta(days=days)).isoformat())

    assert await listed(client, lead, before(7)) == {soon}
    assert await listed(client, lead, before(60)) == {soon, later}
    assert await listed(client, lead, before(1)) == set()
    # Once accepted, the offer is no longer open: it expires no more.
    await step(client, lead, soon, "offers/1/accept")
    assert await listed(client, lead, before(7)) == set()
    naive = await client.get(f"{CASES}?offer_expires_before=2027-01-01T00:00:00", headers=lead)
    assert naive.status_code == 400
    assert "offer_expires_before" in naive.text


async def test_a_bad_queue_filter_is_a_400(
    client: Client, casedb: asyncpg.Connection, three: dict[str, str]
) -> None:
    carla = await bearer(casedb, "Carla", "coordinator")
    answer = await client.get(f"{CASES}?unassigned=perhaps", headers=carla)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_the_audit_log_lists_a_coordinators_reads_of_a_case(
    client: Client, casedb: asyncpg.Connection, three: dict[str, str]
) -> None:
    carla = await bearer(casedb, "Carla", "coordinator")
    admin = await bearer(casedb, "Ada", "admin")
    await casedb.execute("DELETE FROM audit_log")
    assert (await client.get(f"{CASES}/{three['carla']}", headers=carla)).is_success
    assert (await client.get(f"{CASES}/{three['dmytro']}", headers=carla)).status_code == 404
    assert (await client.get(CASES, headers=carla)).is_success

    entries: list[dict[str, Any]] = (
        await client.get(f"/admin/audit?case={three['carla']}", headers=admin)
    ).json()
    assert [(e["person"], e["method"], e["route"], e["status"]) for e in entries] == [
        ("Carla", "GET", "/v1/coordinator/inquiries/{inquiry_id}", 200)
    ]
    assert entries[0]["at"]
    # The refused read of another's case is there for the auditor too.
    probed = (await client.get(f"/admin/audit?case={three['dmytro']}", headers=admin)).json()
    assert [(e["person"], e["status"]) for e in probed] == [("Carla", 404)]
