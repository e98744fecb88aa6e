"""Confirming the trip (payment, payer, travel plan) and the discharge (fit to fly, medication,
return): what is refused, what is stored, what logistics is asked to book."""

from __future__ import annotations

import copy
from typing import Any

import asyncpg
import pytest

from services.runtime.messaging.bus import Bus
from tests.inquiry_samples import DISCHARGE
from tests.integration.inquiries.casefile import (
    CASES,
    CONFIRMATION,
    Client,
    footprint,
    move,
    published,
    settled,
    step,
    to_accepted,
)


def edited(body: dict[str, Any], **paths: Any) -> dict[str, Any]:
    """`body` with values replaced by path (`plan__arrival__airport="X"`; `...` deletes)."""
    body = copy.deepcopy(body)
    for path, value in paths.items():
        *parents, leaf = path.split("__")
        target = body
        for parent in parents:
            target = target[int(parent)] if parent.isdigit() else target[parent]
        if value is ...:
            del target[leaf]
        else:
            target[leaf] = value
    return body


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (
            edited(
                CONFIRMATION,
                plan__discharge="2027-02-01",
                plan__arrival__scheduled_arrival="2027-02-03T10:00:00Z",
                payment__amount="0.00",
                payment__paid_on="2030-01-01",
            ),
            422,
            {"plan.discharge", "plan.admission", "payment.amount", "payment.paid_on"},
        ),
        (edited(CONFIRMATION, plan__arrival__airport="Frankfurt"), 400, {"plan.arrival.airport"}),
        (edited(CONFIRMATION, plan__arrival__flight_number="lh 1491"), 400, None),
        (edited(CONFIRMATION, payment__payer__relation="friend"), 400, None),
        (edited(CONFIRMATION, payment__kind="cash"), 400, None),
        (edited(CONFIRMATION, plan__services__transfer__mobility="scooter"), 400, None),
        (edited(CONFIRMATION, plan__services__interpreter__sessions=[]), 400, None),
        (edited(CONFIRMATION, plan__clinic=...), 400, {"plan.clinic"}),
        (edited(CONFIRMATION, plan__arrival__scheduled_arrival="2027-02-01T14:35:00"), 400, None),
    ],
)
async def test_a_bad_confirmation_is_refused_and_writes_nothing(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
    body: dict[str, Any],
    status: int,
    fields: set[str] | None,
    bus: Bus,
) -> None:
    inquiry_id = await to_accepted(client, coordinator, submitted)
    before = await footprint(casedb, bus)

    response = await client.post(
        f"{CASES}/{inquiry_id}/confirmation",
        json=body,
        headers=coordinator | {"If-Match": f'"{before["cases"][0][2]}"'},
    )

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"]
    if fields is not None:
        assert {e["field"] for e in response.json()["errors"]} == fields
    assert await footprint(casedb, bus) == before


async def test_confirming_before_acceptance_is_409(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any], casedb: Any
) -> None:
    await move(client, coordinator, submitted["id"], "in_review")

    response = await client.post(
        f"{CASES}/{submitted['id']}/confirmation",
        json=CONFIRMATION,
        headers=coordinator | {"If-Match": '"2"'},
    )

    assert response.status_code == 409
    assert response.json()["allowed"] == [
        "records_requested",
        "offer_sent",
        "declined",
        "cancelled",
    ]
    assert await casedb.fetchval("SELECT count(*) FROM case_records") == 0


async def test_an_embassy_guarantee_is_recorded_encrypted_and_never_announced(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
    bus: Bus,
) -> None:
    inquiry_id = await to_accepted(client, coordinator, submitted)
    guarantee = {
        "kind": "guarantee",
        "amount": "21500.00",
        "issued_on": "2026-11-18",
        "reference": "EMB-UA-BER-2026-118",
        "payer": {"relation": "embassy", "name": "Embassy of Ukraine in Berlin"},
    }

    confirmed = await step(
        client,
        coordinator,
        inquiry_id,
        "confirmation",
        edited(CONFIRMATION, payment=guarantee),
    )

    assert confirmed["status"] == "confirmed"
    assert confirmed["confirmation"]["payment"]["kind"] == "guarantee"
    assert confirmed["confirmation"]["payment"]["payer"]["name"] == "Embassy of Ukraine in Berlin"
    raw = await casedb.fetchval("SELECT encode(body, 'escape') FROM case_records")
    assert "Embassy" not in raw
    assert "LH1491" not in raw
    await settled(casedb, bus)
    assert "Embassy" not in str(await published(bus))


async def test_support_alone_books_nothing(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any], bus: Bus, casedb: Any
) -> None:
    inquiry_id = await to_accepted(client, coordinator, submitted)

    await step(
        client,
        coordinator,
        inquiry_id,
        "confirmation",
        edited(CONFIRMATION, plan__services={"support": True}),
    )

    await settled(casedb, bus)
    (confirmed,) = [e for s, e in await published(bus) if s == "inquiries.inquiry.confirmed.v1"]
    assert confirmed["bookings"] == []


async def in_treatment(client: Client, coordinator: dict[str, str], inquiry: dict[str, Any]) -> str:
    inquiry_id = await to_accepted(client, coordinator, inquiry)
    await step(client, coordinator, inquiry_id, "confirmation", CONFIRMATION)
    await move(client, coordinator, inquiry_id, "in_treatment")
    return inquiry_id


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (
            edited(
                DISCHARGE,
                return_flight__pickup_at="2027-02-14T10:00:00+01:00",
                fit_to_fly="2027-02-20",
                home_address=...,
            ),
            422,
            {"return_flight", "return_flight.departs_at", "home_address"},
        ),
        (edited(DISCHARGE, medication__items__0__quantity=0), 400, None),
        (edited(DISCHARGE, return_flight__airport="fra"), 400, {"return_flight.airport"}),
        (edited(DISCHARGE, fit_to_fly=...), 400, {"fit_to_fly"}),
        (edited(DISCHARGE, home_address__country="Ukraine"), 400, {"home_address.country"}),
    ],
)
async def test_a_bad_discharge_is_refused_and_writes_nothing(
    client: Client,
    coordinator: dict[str, str],
    submitted: dict[str, Any],
    casedb: asyncpg.Connection,
    body: dict[str, Any],
    status: int,
    fields: set[str] | None,
    bus: Bus,
) -> None:
    inquiry_id = await in_treatment(client, coordinator, submitted)
    before = await footprint(casedb, bus)

    response = await client.post(
        f"{CASES}/{inquiry_id}/discharge",
        json=body,
        headers=coordinator | {"If-Match": f'"{before["cases"][0][2]}"'},
    )

    assert response.status_code == status, response.text
    if fields is not None:
        assert {e["field"] for e in response.json()["errors"]} == fields
    assert await footprint(casedb, bus) == before


async def test_a_discharge_without_return_flight_or_medication_books_nothing(
    client: Client, coordinator: dict[str, str], submitted: dict[str, Any], bus: Bus, casedb: Any
) -> None:
    inquiry_id = await in_treatment(client, coordinator, submitted)

    discharged = await step(
        client,
        coordinator,
        inquiry_id,
        "discharge",
        {"fit_to_fly": "2027-02-13", "medication": {"items": []}},
    )

    assert discharged["status"] == "discharged"
    await settled(casedb, bus)
    (event,) = [e for s, e in await published(bus) if s == "inquiries.inquiry.discharged.v1"]
    assert event["bookings"] == []
    assert event["fit_to_fly"] == "2027-02-13"
