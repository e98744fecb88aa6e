"""Coordinators find cases, read one in full, assign it and take notes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from services.runtime.messaging.bus import Bus
from tests.integration.inquiries.casefile import (
    CASES,
    Client,
    case,
    footprint,
    move,
    step,
    submit,
)


async def five_cases(client: Client, casedb: asyncpg.Connection) -> list[str]:
    """Five inquiries submitted a day apart (2026-11-01 … 05), newest last."""
    ids = []
    for day in range(1, 6):
        inquiry_id = (await submit(client))["id"]
        await casedb.execute(
            "UPDATE inquiries SET submitted_at = $1 WHERE id = $2",
            datetime(2026, 11, day, 12, tzinfo=UTC),
            inquiry_id,
        )
        ids.append(inquiry_id)
    return ids


async def listed(client: Client, headers: dict[str, str], query: str) -> list[str]:
    response = await client.get(f"{CASES}?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_cases_are_listed_newest_first_and_filtered(
    client: Client, coordinator: dict[str, str], casedb: asyncpg.Connection
) -> None:
    ids = await five_cases(client, casedb)
    await move(client, coordinator, ids[1], "in_review")
    await step(client, coordinator, ids[2], "coordinator", {"coordinator": "Carla Coordinator"})
    await casedb.execute("UPDATE inquiries SET condition_slug = 'angina' WHERE id = $1", ids[3])

    assert await listed(client, coordinator, "") == ids[::-1]
    assert await listed(client, coordinator, "status=in_review") == [ids[1]]
    assert await listed(client, coordinator, "condition_slug=angina") == [ids[3]]
    assert await listed(client, coordinator, "coordinator=Carla%20Coordinator") == [ids[2]]
    assert await listed(
        client, coordinator, "submitted_from=2026-11-02&submitted_to=2026-11-04"
    ) == [ids[3], ids[2], ids[1]]
    assert await listed(client, coordinator, "status=in_review&submitted_from=2026-11-03") == []


async def test_pages_follow_one_another_without_skipping_or_repeating(
    client: Client, coordinator: dict[str, str], casedb: asyncpg.Connection
) -> None:
    ids = await five_cases(client, casedb)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        response = await client.get(f"{CASES}?limit=2{cursor}", headers=coordinator)
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
        # A case submitted meanwhile is newer than every page: it does not shift later pages.
        await submit(client)

    assert seen == ids[::-1]
    assert pages == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        # Bounded where the route declares it, as every limit of every service is.
        ("limit=0", "query.limit"),
        ("limit=101", "query.limit"),
        (f"limit={2**63}", "query.limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("submitted_from=2026-11-05&submitted_to=2026-11-01", "submitted_to"),
        ("submitted_from=yesterday", "query.submitted_from"),
        ("limit=many", "query.limit"),
    ],
)
async def test_a_bad_filter_limit_or_cursor_is_a_400_naming_it(
    client: Client, coordinator: dict[str, str], query: str, field: str
) -> None:
    response = await client.get(f"{CASES}?{query}", headers=coordinator)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_a_case_shows_coordinators_the_patient_decrypted_with_its_version_as_etag(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any]
) -> None:
    view = await case(client, coordinator, submitted["id"])

    assert view["status"] == "submitted"
    assert view["version"] == 1
    assert view["allowed_next"] == ["in_review", "declined", "cancelled"]
    assert view["patient"]["full_name"] == "Olena Kovalenko"
    assert view["diagnoses"] == ["mitral regurgitation, grade III"]
    assert view["description"].startswith("Shortness of breath")
    assert view["preferred_dates"] == {"from": "2027-02-01", "to": "2027-03-15"}
    assert [(c["purpose"], c["granted"], c["given_by"]) for c in view["consents"]] == [
        (purpose, True, "patient")
        for purpose in (
            "health_data_processing",
            "review_by_staff",
            "forwarding_to_clinics",
            "partner_sharing",
        )
    ]
    assert all(c["given"] for c in view["consent"])
    assert view["blocked"] == []
    assert [e["kind"] for e in view["timeline"]] == ["submitted"]
    assert (view["offers"], view["notes"], view["confirmation"]) == ([], [], None)


async def test_assigning_a_case_bumps_its_version_and_is_on_the_timeline(
    client: Client, lead: dict[str, str], submitted: dict[str, Any]
) -> None:
    assigned = await step(
        client, lead, submitted["id"], "coordinator", {"coordinator": "Dmytro D."}
    )
    unassigned = await step(client, lead, submitted["id"], "coordinator", {"coordinator": None})

    assert assigned["coordinator"] == "Dmytro D."
    assert unassigned["coordinator"] is None
    assert unassigned["version"] == 3
    assert unassigned["timeline"][-2]["detail"] == {
        "coordinator": "Dmytro D.",
        "by": "Lea Lead",
    }


async def test_notes_are_stored_encrypted_and_read_back_by_coordinators(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
) -> None:
    text = "Called the patient: NYHA class III, takes warfarin."
    response = await client.post(
        f"{CASES}/{submitted['id']}/notes", json={"text": text}, headers=coordinator
    )

    assert response.status_code == 201, response.text
    assert response.json()["author"] == "Carla Coordinator"
    view = await case(client, coordinator, submitted["id"])
    assert [(n["author"], n["text"]) for n in view["notes"]] == [("Carla Coordinator", text)]
    assert view["version"] == 1, "a note changes nothing another coordinator could overwrite"
    raw = await casedb.fetchval("SELECT encode(body, 'escape') FROM notes")
    assert "warfarin" not in raw
    assert "NYHA" not in raw


async def test_a_note_or_assignment_for_an_unknown_case_is_a_404_and_writes_nothing(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: Any,
    bus: Bus,
) -> None:
    unknown = uuid.uuid4()
    before = await footprint(casedb, bus)

    note = await client.post(f"{CASES}/{unknown}/notes", json={"text": "x"}, headers=coordinator)
    assign = await client.put(
        f"{CASES}/{unknown}/coordinator",
        json={"coordinator": "x"},
        headers=coordinator | {"If-Match": '"1"'},
    )

    assert (note.status_code, assign.status_code) == (404, 404)
    assert await footprint(casedb, bus) == before
