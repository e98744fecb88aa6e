"""No table of the inquiries schema holds a patient's data in plain text (not the inquiry, not the
stored answers to retries, whatever tables the schema grows), nor does the event announcing it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js.errors import NotFoundError

from contracts.registry import INQUIRY_SUBMITTED
from services.runtime.messaging.bus import Bus
from tests.inquiry_samples import SUBMISSION, SUBMISSION_PERSONAL
from tests.support import eventually, every_value


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "inquiries"})
    await conn.execute(
        "INSERT INTO known_conditions (slug, revision, locales) "
        "VALUES ('mitral-valve-insufficiency', 1, '{en,de}')"
    )
    yield conn
    await conn.close()


async def submitted_event(bus: Bus) -> bytes | None:
    try:
        msg = await bus.js.get_last_msg(
            bus.stream(INQUIRY_SUBMITTED.stream), bus.subject(INQUIRY_SUBMITTED.subject())
        )
    except NotFoundError:
        return None
    return bytes(msg.data)


async def test_no_table_nor_the_announced_event_holds_the_patients_data_in_plain_text(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, bus: Bus
) -> None:
    response = await client.post(
        "/v1/inquiries", json=SUBMISSION, headers={"Idempotency-Key": "at-rest-1"}
    )
    assert response.status_code == 201

    dump = await every_value(db, "inquiries")
    dump["announced"] = (await eventually(lambda: submitted_event(bus))).decode("latin-1")

    assert {"inquiries", "idempotent_submissions", "consents", "timeline"} <= set(dump)
    assert dump["idempotent_submissions"], "the stored answer is among what was searched"
    leaks = {
        (table, secret)
        for table, text in dump.items()
        for secret in SUBMISSION_PERSONAL
        if secret in text
    }
    assert leaks == set()
