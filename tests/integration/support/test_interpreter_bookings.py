"""A case in a language nobody on call speaks, through the real services: support asks
logistics for an interpreter by phone, logistics offers the session to an interpreter partner
(the reference partner, over NATS, as a real one would answer), and the case's timeline says who
was booked and when; without the patient's consent to partner sharing nothing reaches a partner
and the timeline says why. Inquiries checks the patient's token; its consent to partner sharing
reaches logistics on the confirmation event inquiries publishes, published here as inquiries
does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from contracts.inquiries import ConsentBasis, InquiryConfirmed
from contracts.registry import INQUIRY_CONFIRMED
from services.logistics.app import LogisticsSettings
from services.logistics.app import create_app as create_logistics
from services.partner.app import PartnerSettings
from services.partner.consumers import ReferencePartner
from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.messaging.bus import Bus
from services.runtime.privacy.crypto import KeyRing
from tests.integration.inquiries.casefile import submit
from tests.integration.logistics.conftest import publish
from tests.integration.notifications.conftest import Client
from tests.integration.support.test_support_desk import desk, open_case, view
from tests.logistics_samples import partner
from tests.support import eventually

Headers = Callable[[str], dict[str, str]]
INTERPRETER = "lingua-ar"


@pytest.fixture
async def logistics(settings: ServiceSettings, staff_headers: Headers) -> AsyncIterator[Client]:
    """Logistics with one interpreter partner between Arabic and German."""
    env = as_environ(settings) | {
        "OFFER_TIMEOUT": "60",
        "DEADLINE_INTERVAL": "0.1",
        "LOGISTICS_ENCRYPTION_KEYS": KeyRing.generate_setting("l1"),
    }
    app = create_logistics(load_settings(LogisticsSettings, environ=env))
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        registered = await client.post(
            "/v1/partners",
            json=partner(INTERPRETER, "interpreter", languages=["ar", "de"]),
            headers=staff_headers("coordinator"),
        )
        assert registered.status_code == 201, registered.text
        yield client


@pytest.fixture
async def interpreter(
    logistics: Client, nats_url: str, namespace: str
) -> AsyncIterator[ReferencePartner]:
    """The reference partner, taking every interpreter offer, on its own connection."""
    own = await Bus.connect(nats_url, name="partner", namespace=namespace)
    running = ReferencePartner(
        PartnerSettings(
            partner_id=INTERPRETER,
            partner_kinds="interpreter",
            nats_url=nats_url,
            nats_namespace=namespace,
            reply_delay=0.05,
            step_delay=0.05,
            random_seed=1,
        ),
        own,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    yield running
    stop.set()
    await asyncio.wait_for(task, 10)
    await own.close()


@pytest.fixture
async def ldb(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "logistics"})
    yield conn
    await conn.close()


async def consent_to_partner_sharing(bus: Bus, inquiry_id: str) -> None:
    """The confirmation inquiries publishes once the patient consented to partner sharing."""
    now = datetime.now(UTC)
    await publish(
        bus,
        INQUIRY_CONFIRMED.subject(),
        InquiryConfirmed(
            inquiry_id=inquiry_id,
            version=6,
            bookings=(),
            confirmed_at=now,
            sharing_consent=ConsentBasis(
                purpose="partner_sharing", notice_version="2026-12", given_at=now
            ),
        ),
        source="/carebridge/inquiries",
    )


async def entry(
    support: Client, submitted: dict[str, Any], case_id: str, kind: str
) -> dict[str, Any]:
    async def written() -> dict[str, Any] | None:
        shown = await view(support, submitted, case_id)
        return next((e for e in shown["timeline"] if e["kind"] == kind), None)

    found: dict[str, Any] = await eventually(written, timeout=20)
    return found


async def test_a_case_in_a_language_nobody_on_call_speaks_gets_an_interpreter_booked(
    inquiries: Client,
    support: Client,
    staff_headers: Headers,
    logistics: Client,
    interpreter: ReferencePartner,
    bus: Bus,
    ldb: asyncpg.Connection,
) -> None:
    await desk(support, staff_headers, urgent_ack=600)  # on call: uk, en, ru
    submitted = await submit(inquiries)
    await consent_to_partner_sharing(bus, submitted["id"])
    await eventually(
        lambda: ldb.fetchval(
            "SELECT true FROM sharing_consents WHERE inquiry_id = $1", submitted["id"]
        ),
        timeout=10,
    )

    opened = await open_case(
        support, submitted, category="transfer", priority="normal", language="ar", message="..."
    )

    booked = await entry(support, submitted, opened["id"], "interpreter_booked")
    assert booked["detail"].startswith("interpreter booked: Lingua Ar GmbH, phone session at ")
    row = await ldb.fetchrow(
        "SELECT id, kind, inquiry_id, partner_id FROM bookings WHERE support_case_id = $1",
        opened["id"],
    )
    assert row is not None
    assert (row["kind"], row["inquiry_id"], row["partner_id"]) == (
        "interpreter",
        submitted["id"],
        INTERPRETER,
    )
    shown = await view(support, submitted, opened["id"])
    kinds = [e["kind"] for e in shown["timeline"]]
    assert kinds.index("interpreter_requested") < kinds.index("interpreter_booked")
    assert kinds.count("interpreter_booked") == 1


async def test_without_consent_to_partner_sharing_no_interpreter_is_booked_and_the_case_says_why(
    inquiries: Client,
    support: Client,
    staff_headers: Headers,
    logistics: Client,
    interpreter: ReferencePartner,
    ldb: asyncpg.Connection,
) -> None:
    await desk(support, staff_headers, urgent_ack=600)
    submitted = await submit(inquiries)  # never confirmed: logistics holds no consent

    opened = await open_case(
        support, submitted, category="other", priority="normal", language="ar", message="..."
    )

    refused = await entry(support, submitted, opened["id"], "interpreter_not_booked")
    assert "has not consented to sharing" in refused["detail"]
    assert await ldb.fetchval("SELECT count(*) FROM bookings") == 0
    assert await ldb.fetchval("SELECT count(*) FROM offers") == 0
    assert interpreter.jobs == {}
