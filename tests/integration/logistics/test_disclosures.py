"""Every offer to a partner is in the disclosure log with exactly the fields it carried, and
logistics answers its part of a case's export over `rpc.logistics.case_export.v1`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import msgspec
import pytest

from contracts.exports import (
    CaseExport,
    CaseExportFailed,
    CaseExportRequest,
    case_export_reply_decoder,
)
from contracts.partners import OfferDeclined
from contracts.registry import CASE_EXPORT
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.request_reply import ask
from services.runtime.privacy.disclosures import LEGAL_BASES
from tests.integration.logistics.conftest import Client, Register, Tap, reply
from tests.integration.logistics.test_dispatch import confirm, confirmed
from tests.logistics_samples import interpreter, transfer


@pytest.fixture
async def raw_offers(bus: Bus) -> AsyncIterator[Tap]:
    """Offers exactly as partners receive them: the JSON body, not decoded into our types."""
    tap = Tap(bus, "PARTNERS", "partners.*.offers.*", msgspec.json.Decoder())
    await tap.open()
    yield tap
    await tap.close()


def wire_fields(value: Any, prefix: str = "") -> Iterator[str]:
    """Every path of the JSON that holds a value; the items of a list share one path."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from wire_fields(inner, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for item in value:
            yield from wire_fields(item, f"{prefix}[]")
    elif value is not None:
        yield prefix


async def logged(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT * FROM disclosure_log ORDER BY id")
    return [dict(r.items()) for r in rows]


async def test_each_offer_to_a_partner_is_logged_with_the_fields_it_carried(
    client: Client,
    register: Register,
    bus: Bus,
    raw_offers: Tap,
    db: asyncpg.Connection,
) -> None:
    await register("rhein-shuttle", "transfer", priority=20)
    await register("main-taxi", "transfer", priority=10)
    await register("dolmetscher-uk", "interpreter")
    inquiry = str(uuid.uuid4())
    await confirm(
        bus,
        confirmed(
            inquiry,
            ("transfer", transfer(meeting_point=None)),
            ("interpreter", interpreter()),
        ),
    )
    first = await raw_offers.until(lambda seen: len(seen) == 2)
    [ride] = [body for subject, body in first if subject.startswith("partners.rhein-shuttle.")]
    await reply(
        bus, "rhein-shuttle", OfferDeclined(offer_id=ride["offer_id"], reason="no_capacity")
    )
    seen = await raw_offers.until(lambda seen: len(seen) == 3)

    sent = {
        body["offer_id"]: (subject.split(".")[1], body)
        for subject, body in seen
        if body["type"] == "offer"
    }
    rows = await logged(db)
    assert sorted(r["reference"] for r in rows) == sorted(sent)
    for row in rows:
        partner, body = sent[row["reference"]]
        assert row["recipient_type"] == "partner"
        assert row["recipient"] == partner
        assert row["fields"] == sorted(set(wire_fields(body)))
        assert row["kind"] == "partner_offer"
        assert row["legal_basis"] == LEGAL_BASES["partner_offer"]
        assert row["inquiry_id"] == inquiry
    by_partner = {r["recipient"]: r["fields"] for r in rows}
    # What each offer carried, not a list kept by hand: no meeting point was given, so none
    # was sent; the interpreter learned the sessions, the driver the flight.
    assert "details.meeting_point" not in by_partner["main-taxi"]
    assert {"details.patient.full_name", "details.flight_number"} <= set(by_partner["main-taxi"])
    assert "details.sessions[].place" in by_partner["dolmetscher-uk"]
    assert "details.flight_number" not in by_partner["dolmetscher-uk"]


async def test_logistics_answers_its_part_of_a_case_export(
    client: Client, register: Register, bus: Bus, raw_offers: Tap, db: asyncpg.Connection
) -> None:
    await register("rhein-shuttle", "transfer")
    inquiry = str(uuid.uuid4())
    await confirm(bus, confirmed(inquiry, ("transfer", transfer())))
    [(_, offer)] = await raw_offers.until(lambda seen: len(seen) == 1)

    answer = await ask(
        bus,
        CASE_EXPORT,
        CaseExportRequest(inquiry_id=inquiry),
        case_export_reply_decoder,
        timeout=5,
    )

    assert isinstance(answer, CaseExport)
    [booking] = answer.bookings
    assert booking.booking_id == offer["booking_id"]
    assert booking.details.patient.full_name == "Olena Kovalenko"
    assert [e.entry for e in booking.timeline] == ["created", "offered"]
    [disclosure] = answer.disclosures
    assert (disclosure.recipient, disclosure.reference) == ("rhein-shuttle", offer["offer_id"])
    assert disclosure.fields == tuple(sorted(set(wire_fields(offer))))


async def test_an_unknown_case_is_an_empty_part_and_a_malformed_request_an_answered_failure(
    client: Client, bus: Bus
) -> None:
    stranger = str(uuid.uuid4())
    empty = await ask(
        bus,
        CASE_EXPORT,
        CaseExportRequest(inquiry_id=stranger),
        case_export_reply_decoder,
        timeout=5,
    )
    assert empty == CaseExport(inquiry_id=stranger, bookings=(), disclosures=())

    malformed = await bus.nc.request(
        bus.subject(CASE_EXPORT.address), b'{"type": "case_export_request"}', timeout=5
    )
    answer = case_export_reply_decoder.decode(malformed.data)
    assert isinstance(answer, CaseExportFailed)
    assert "inquiry_id" in answer.reason
