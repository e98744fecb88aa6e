"""Cases for the workflow tests: a coordinator, a submitted inquiry, the bodies of each step,
and what the service announced."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js.errors import NotFoundError

from services.runtime.access import api_keys, staff
from services.runtime.messaging.bus import Bus
from tests.inquiry_samples import SUBMISSION
from tests.support import eventually

Client = AsyncTestClient[Litestar]
CASES = "/v1/coordinator/inquiries"
SOON = datetime.now(UTC) + timedelta(days=60)


@pytest.fixture
async def casedb(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "inquiries"})
    await conn.execute(
        "INSERT INTO known_conditions (slug, revision, locales) "
        "VALUES ('mitral-valve-insufficiency', 1, '{en,de}')"
    )
    yield conn
    await conn.close()


@pytest.fixture
async def coordinator(casedb: asyncpg.Connection) -> dict[str, str]:
    _, token = await staff.create_token(casedb, person="Carla Coordinator", roles=("coordinator",))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def lead(casedb: asyncpg.Connection) -> dict[str, str]:
    _, token = await staff.create_token(casedb, person="Lea Lead", roles=("lead_coordinator",))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def submitted(client: Client, casedb: asyncpg.Connection) -> dict[str, Any]:
    return await submit(client)


async def submit(client: Client, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(SUBMISSION) | changes
    response = await client.post("/v1/inquiries", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def patient(submitted: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {submitted['access_token']}"}


async def case(client: Client, headers: dict[str, str], inquiry_id: str) -> dict[str, Any]:
    response = await client.get(f"{CASES}/{inquiry_id}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    body: dict[str, Any] = response.json()
    return body


async def step(
    client: Client, headers: dict[str, str], inquiry_id: str, path: str, body: Any = None
) -> dict[str, Any]:
    """Take one step of the workflow with the current version, and insist it succeeds."""
    version = (await case(client, headers, inquiry_id))["version"]
    response = await client.request(
        "PUT" if path == "coordinator" else "POST",
        f"{CASES}/{inquiry_id}/{path}",
        json=body,
        headers=headers | {"If-Match": f'"{version}"'},
    )
    assert response.status_code in (200, 201), response.text
    assert response.json()["version"] == version + 1
    answer: dict[str, Any] = response.json()
    return answer


async def move(client: Client, headers: dict[str, str], inquiry_id: str, to: str) -> None:
    await step(client, headers, inquiry_id, "transitions", {"to": to})


def offer(valid_until: datetime = SOON, total: str = "21500.00") -> dict[str, Any]:
    return {
        "programmes": [
            {
                "title": "Mitral valve repair, minimally invasive",
                "clinic": "Herzzentrum Rhein-Main",
                "physician": "Prof. Dr. med. A. Weber",
                "procedures": ["transesophageal echocardiography", "mitral valve repair"],
                "length_of_stay_days": 10,
                "items": [
                    {"description": "diagnostics", "amount": "1500.00"},
                    {"description": "surgery and stay", "amount": "20000.00"},
                ],
                "total": total,
                "advance": "5000.00",
            }
        ],
        "valid_until": valid_until.isoformat(),
    }


CONFIRMATION: dict[str, Any] = {
    "payment": {
        "kind": "advance",
        "amount": "5000.00",
        "paid_on": "2026-11-20",
        "reference": "SEPA-2026-11-0042",
        "payer": {"relation": "relative", "name": "Taras Kovalenko", "phone": "+380671112233"},
    },
    "plan": {
        "arrival": {
            "flight_number": "LH1491",
            "airport": "FRA",
            "scheduled_arrival": "2027-02-01T14:35:00+01:00",
        },
        "clinic": {"name": "Herzzentrum Rhein-Main", "address": "Klinikweg 1, 60590 Frankfurt"},
        "admission": "2027-02-02",
        "discharge": "2027-02-12",
        "services": {
            "transfer": {
                "passengers": 2,
                "luggage": 3,
                "mobility": "wheelchair",
                "meeting_point": "Arrivals hall B, exit 3",
            },
            "interpreter": {
                "specialty": "cardiology",
                "sessions": [
                    {
                        "date": "2027-02-02",
                        "start": "09:00:00",
                        "duration_minutes": 120,
                        "place": "Herzzentrum Rhein-Main, admission",
                        "purpose": "admission",
                    }
                ],
            },
            "support": True,
        },
    },
}


async def to_accepted(client: Client, headers: dict[str, str], submitted: dict[str, Any]) -> str:
    inquiry_id: str = submitted["id"]
    await move(client, headers, inquiry_id, "in_review")
    await step(client, headers, inquiry_id, "offers", offer())
    await step(client, headers, inquiry_id, "offers/1/accept")
    return inquiry_id


async def published(bus: Bus) -> list[tuple[str, dict[str, Any]]]:
    """Every inquiries event on the stream, in order: (subject without namespace, body)."""
    stream = bus.stream("INQUIRIES")
    try:
        info = await bus.js.stream_info(stream)
    except NotFoundError:
        return []
    events = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await bus.js.get_msg(stream, seq)
        events.append((bus.unprefix(msg.subject), msgspec.json.decode(msg.data or b"{}")))
    return events


async def settled(db: asyncpg.Connection, bus: Bus) -> int:
    """Once the relay has published everything: how many events the stream holds."""

    async def drained() -> bool:
        return await db.fetchval("SELECT count(*) FROM outbox") == 0

    await eventually(drained)
    return len(await published(bus))


async def footprint(db: asyncpg.Connection, bus: Bus) -> dict[str, Any]:
    """Everything a workflow step could write, to prove a refused one wrote nothing: its rows,
    and the events published or still waiting in the outbox."""
    return {
        "events": await settled(db, bus),
        "cases": [
            tuple(r)
            for r in await db.fetch(
                "SELECT id, status, version, coordinator, updated_at FROM inquiries ORDER BY id"
            )
        ],
        **{
            table: await db.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("timeline", "notes", "offers", "case_records", "consents")
        },
        "offer_states": [
            tuple(r) for r in await db.fetch("SELECT version, state FROM offers ORDER BY 1")
        ],
    }


@pytest.fixture
async def site_key(database_url: str) -> str:
    """The API key of the third-party site the tests submit from."""
    conn = await asyncpg.connect(database_url)
    try:
        _, key = await api_keys.create_api_key(
            conn, name="heart-clinic-finder", origins=(), rate_per_minute=10_000
        )
    finally:
        await conn.close()
    return key


def as_site(client: AsyncTestClient[Litestar], key: str) -> AsyncTestClient[Litestar]:
    """Every request of `client` carries the site's API key, as a site's backend sends it."""
    client.headers["X-API-Key"] = key
    return client
