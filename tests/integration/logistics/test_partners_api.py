"""The partner registry over REST: register, replace idempotently, list, read, deactivate."""

from __future__ import annotations

import asyncpg

from services.runtime.access import staff
from tests.integration.logistics.conftest import Client, Register
from tests.logistics_samples import partner


async def test_partners_are_registered_listed_read_and_deactivated(
    client: Client, coordinator: dict[str, str], register: Register
) -> None:
    created = await register("rhein-shuttle", "transfer", priority=10)
    await register("main-taxi", "transfer", priority=20)
    await register("kyiv-courier", "shipment", priority=5)

    transfers = await client.get("/v1/partners", params={"kind": "transfer"}, headers=coordinator)
    one = await client.get("/v1/partners/rhein-shuttle", headers=coordinator)
    deactivated = await client.patch(
        "/v1/partners/main-taxi", json={"active": False}, headers=coordinator
    )
    active = await client.get("/v1/partners", params={"active": "true"}, headers=coordinator)

    # The default channel is NATS; credentials come only with a webhook channel.
    nats = {"channel": {"type": "nats"}}
    assert created == partner("rhein-shuttle", "transfer", priority=10) | nats | {
        "credentials": None
    }
    assert [p["id"] for p in transfers.json()] == ["main-taxi", "rhein-shuttle"]
    assert one.json() == partner("rhein-shuttle", "transfer", priority=10) | nats
    assert deactivated.status_code == 200
    assert deactivated.json()["active"] is False
    assert [p["id"] for p in active.json()] == ["rhein-shuttle", "kyiv-courier"]


async def test_registering_an_existing_id_is_a_conflict_and_put_creates_or_replaces(
    client: Client, coordinator: dict[str, str], register: Register
) -> None:
    await register("rhein-shuttle", "transfer")

    again = await client.post(
        "/v1/partners", json=partner("rhein-shuttle", "transfer"), headers=coordinator
    )
    replaced = await client.put(
        "/v1/partners/rhein-shuttle",
        json=partner("rhein-shuttle", "transfer", priority=30, capabilities=["ambulance"]),
        headers=coordinator,
    )
    body = partner("main-taxi", "transfer")
    del body["id"]
    created = await client.put("/v1/partners/main-taxi", json=body, headers=coordinator)
    repeated = await client.put("/v1/partners/main-taxi", json=body, headers=coordinator)
    listed = await client.get("/v1/partners", headers=coordinator)

    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert replaced.status_code == 200
    assert replaced.json()["capabilities"] == ["ambulance"]
    assert created.status_code == 201
    assert repeated.status_code == 200
    assert [(p["id"], p["priority"]) for p in listed.json()] == [
        ("rhein-shuttle", 30),
        ("main-taxi", 10),
    ]


async def test_bad_partner_input_lists_every_problem_and_writes_nothing(
    client: Client, coordinator: dict[str, str], db: asyncpg.Connection
) -> None:
    bad = partner(
        "Rhein Shuttle",
        "limousine",
        coverage={"airports": ["frankfurt"]},
        languages=["Ukrainian"],
        capabilities=["teleport"],
        colour="red",
    )

    posted = await client.post("/v1/partners", json=bad, headers=coordinator)
    mismatched = await client.put(
        "/v1/partners/main-taxi", json=partner("rhein-shuttle", "transfer"), headers=coordinator
    )
    unknown = await client.patch("/v1/partners/nobody", json={"active": False}, headers=coordinator)
    missing = await client.get("/v1/partners/nobody", headers=coordinator)

    assert posted.status_code == 400
    assert {e["field"] for e in posted.json()["errors"]} == {
        "id",
        "kinds[0]",
        "coverage.airports[0]",
        "languages[0]",
        "capabilities[0]",
        "colour",
    }
    assert mismatched.status_code == 400
    assert unknown.status_code == 404
    assert missing.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM partners") == 0


async def test_partners_are_kept_by_admins_and_coordinators_only(
    client: Client, db: asyncpg.Connection
) -> None:
    _, admin = await staff.create_token(db, person="Ada Admin", roles=("admin",))
    _, editor = await staff.create_token(db, person="Eva Editor", roles=("editor",))

    by_admin = await client.put(
        "/v1/partners/rhein-shuttle",
        json=partner("rhein-shuttle", "transfer"),
        headers={"Authorization": f"Bearer {admin}"},
    )
    by_editor = await client.get("/v1/partners", headers={"Authorization": f"Bearer {editor}"})
    anonymous = await client.post("/v1/partners", json=partner("main-taxi", "transfer"))

    assert by_admin.status_code == 201
    assert by_editor.status_code == 403
    assert anonymous.status_code == 401
