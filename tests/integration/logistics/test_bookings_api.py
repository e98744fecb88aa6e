"""Coordinators book, list, read and cancel bookings over REST; bad input changes nothing."""

from __future__ import annotations

import base64
import json
import uuid

import asyncpg

from contracts.partners import Offer
from services.runtime.access import staff
from tests.integration.logistics.conftest import Client, Register, Tap
from tests.logistics_samples import interpreter, shipment, transfer


async def test_a_coordinator_books_a_transfer_and_it_is_offered_to_the_best_partner(
    client: Client, coordinator: dict[str, str], register: Register, offers: Tap
) -> None:
    await register("rhein-shuttle", "transfer", priority=10)
    await register("main-taxi", "transfer", priority=20)
    await register("far-away-cabs", "transfer", priority=99, coverage={"airports": ["MUC"]})

    response = await client.post(
        "/v1/bookings",
        json={"inquiry_id": None, "kind": "transfer", "details": transfer()},
        headers=coordinator,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    booking = body["booking"]
    assert (booking["kind"], booking["status"], booking["version"]) == ("transfer", "offered", 2)
    assert booking["details"]["flight_number"] == "LH1491"
    assert [e["entry"] for e in body["timeline"]] == ["created", "offered"]
    assert [(o["partner_id"], o["state"]) for o in body["offers"]] == [("main-taxi", "open")]
    seen = await offers.until(lambda s: len(s) == 1)
    subject, offer = seen[0]
    assert subject == "partners.main-taxi.offers.transfer"
    assert isinstance(offer, Offer)
    assert offer.booking_id == booking["id"]
    assert offer.offer_id == body["offers"][0]["id"]
    assert offer.details.patient.full_name == "Olena Kovalenko"


async def test_bookings_need_a_coordinator(client: Client, db: asyncpg.Connection) -> None:
    _, editor_token = await staff.create_token(db, person="Eva Editor", roles=("editor",))

    anonymous = await client.get("/v1/bookings")
    editor = await client.get("/v1/bookings", headers={"Authorization": f"Bearer {editor_token}"})

    assert anonymous.status_code == 401
    assert editor.status_code == 403
    assert editor.headers["content-type"].startswith("application/problem+json")


async def test_bad_booking_input_lists_every_problem_and_writes_nothing(
    client: Client, coordinator: dict[str, str], db: asyncpg.Connection
) -> None:
    bad = transfer(airport="Frankfurt", passengers=0, patient={"phone": "0171"}, colour="red")

    response = await client.post(
        "/v1/bookings",
        json={"inquiry_id": "not-an-inquiry", "kind": "transfer", "details": bad},
        headers=coordinator,
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "inquiry_id",
        "details.colour",
        "details.airport",
        "details.passengers",
        "details.patient.full_name",
        "details.patient.phone",
    }
    assert await db.fetchval("SELECT count(*) FROM bookings") == 0
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_details_of_another_kind_or_an_unknown_kind_are_a_400(
    client: Client, coordinator: dict[str, str], db: asyncpg.Connection
) -> None:
    tagged = await client.post(
        "/v1/bookings",
        json={"kind": "transfer", "details": {**interpreter(), "kind": "interpreter"}},
        headers=coordinator,
    )
    untagged = await client.post(
        "/v1/bookings", json={"kind": "shipment", "details": transfer()}, headers=coordinator
    )
    unknown = await client.post(
        "/v1/bookings", json={"kind": "limousine", "details": {}}, headers=coordinator
    )
    not_a_kind = await client.post(
        "/v1/bookings", json={"kind": ["transfer"], "details": transfer()}, headers=coordinator
    )
    not_json = await client.post(
        "/v1/bookings", content=b"{", headers={**coordinator, "Content-Type": "application/json"}
    )

    assert tagged.status_code == 400
    assert "details.kind" in {e["field"] for e in tagged.json()["errors"]}
    assert untagged.status_code == 400
    assert {"details.items", "details.destination", "details.flight_number"} <= {
        e["field"] for e in untagged.json()["errors"]
    }
    assert unknown.status_code == 400
    assert [e["field"] for e in unknown.json()["errors"]] == ["kind"]
    assert not_a_kind.status_code == 400
    assert not_json.status_code == 400
    assert await db.fetchval("SELECT count(*) FROM bookings") == 0


async def test_bookings_are_listed_by_inquiry_status_and_kind_page_by_page(
    client: Client, coordinator: dict[str, str], register: Register
) -> None:
    await register("rhein-shuttle", "transfer")
    inquiry = str(uuid.uuid4())
    created = []
    for kind, details in (
        ("transfer", transfer()),
        ("transfer", transfer(flight_number="LH1493")),
        ("interpreter", interpreter()),
        ("shipment", shipment()),
    ):
        response = await client.post(
            "/v1/bookings",
            json={"inquiry_id": inquiry, "kind": kind, "details": details},
            headers=coordinator,
        )
        created.append(response.json()["booking"]["id"])
    await client.post(
        "/v1/bookings", json={"kind": "transfer", "details": transfer()}, headers=coordinator
    )

    first = await client.get(
        "/v1/bookings", params={"inquiry_id": inquiry, "limit": 3}, headers=coordinator
    )
    second = await client.get(
        "/v1/bookings",
        params={"inquiry_id": inquiry, "limit": 3, "cursor": first.json()["next_cursor"]},
        headers=coordinator,
    )
    offered = await client.get(
        "/v1/bookings", params={"inquiry_id": inquiry, "status": "offered"}, headers=coordinator
    )
    shipments = await client.get("/v1/bookings", params={"kind": "shipment"}, headers=coordinator)
    bad = await client.get(
        "/v1/bookings", params={"status": "lost", "cursor": "nonsense"}, headers=coordinator
    )
    naive = base64.urlsafe_b64encode(
        json.dumps({"t": "2027-01-01T00:00:00", "id": str(uuid.uuid4())}).encode()
    ).decode()
    forged = await client.get("/v1/bookings", params={"cursor": naive}, headers=coordinator)

    ids = [b["id"] for b in first.json()["items"] + second.json()["items"]]
    assert ids == created
    assert second.json()["next_cursor"] is None
    assert [b["id"] for b in offered.json()["items"]] == created[:2]
    assert [b["id"] for b in shipments.json()["items"]] == created[3:]
    assert bad.status_code == 400
    assert forged.status_code == 400
    assert forged.json()["errors"][0]["field"] == "cursor"


async def test_an_unknown_booking_is_a_404(client: Client, coordinator: dict[str, str]) -> None:
    response = await client.get(f"/v1/bookings/{uuid.uuid4()}", headers=coordinator)
    cancel = await client.post(f"/v1/bookings/{uuid.uuid4()}/cancel", headers=coordinator)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert cancel.status_code == 404


async def test_a_booking_is_read_with_its_timeline_and_offers(
    client: Client, coordinator: dict[str, str], register: Register
) -> None:
    await register("kyiv-courier", "shipment")
    created = await client.post(
        "/v1/bookings", json={"kind": "shipment", "details": shipment()}, headers=coordinator
    )

    response = await client.get(
        f"/v1/bookings/{created.json()['booking']['id']}", headers=coordinator
    )

    assert response.status_code == 200
    body = response.json()
    assert body["booking"]["details"]["items"][0]["active_ingredient"] == "phenprocoumon"
    assert [(e["entry"], e["status"]) for e in body["timeline"]] == [
        ("created", "requested"),
        ("offered", "offered"),
    ]
    assert body["timeline"][1]["partner_id"] == "kyiv-courier"
    assert [o["partner_id"] for o in body["offers"]] == ["kyiv-courier"]


async def test_bookings_and_dead_letters_are_never_stored_by_a_cache(
    client: Client, coordinator: dict[str, str], db: asyncpg.Connection, register: Register
) -> None:
    await register("kyiv-courier", "shipment")
    _, admin = await staff.create_token(db, person="Ada Admin", roles=("admin",))
    created = await client.post(
        "/v1/bookings", json={"kind": "shipment", "details": shipment()}, headers=coordinator
    )
    booking_id = created.json()["booking"]["id"]

    answers = [
        created,
        await client.get("/v1/bookings", headers=coordinator),
        await client.get(f"/v1/bookings/{booking_id}", headers=coordinator),
        await client.get("/admin/dead-letters/", headers={"Authorization": f"Bearer {admin}"}),
        await client.get("/v1/bookings", headers={"Origin": "https://anywhere.example"}),
    ]

    assert [a.status_code for a in answers] == [201, 200, 200, 200, 401]
    for answer in answers:
        assert answer.headers["cache-control"] == "private, no-store", answer.url
        assert "access-control-allow-origin" not in answer.headers, answer.url
