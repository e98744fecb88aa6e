"""What the inquiries service logs, at its most verbose, holds no patient data: the lines it writes
while a patient submits, follows the case, has it erased, and sends requests that fail."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from services.inquiries.app import InquiriesSettings, create_app
from services.runtime.access import staff
from services.runtime.core.settings import as_environ, load_settings
from tests.inquiry_samples import SUBMISSION, SUBMISSION_PERSONAL
from tests.integration.inquiries.casefile import as_site
from tests.support import eventually


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "inquiries"})
    await conn.execute(
        "INSERT INTO known_conditions (slug, revision, locales) "
        "VALUES ('mitral-valve-insufficiency', 1, '{en,de}')"
    )
    yield conn
    await conn.close()


@pytest.fixture
def verbose_settings(inquiries_settings: InquiriesSettings) -> InquiriesSettings:
    env = as_environ(inquiries_settings)
    return load_settings(
        InquiriesSettings, environ=env | {"LOG_LEVEL": "debug", "LOG_FORMAT": "json"}
    )


async def test_the_service_logs_no_personal_data_from_submission_to_erasure(
    verbose_settings: InquiriesSettings,
    db: asyncpg.Connection,
    capsys: pytest.CaptureFixture[str],
    site_key: str,
) -> None:
    _, admin_token = await staff.create_token(db, person="Ada Admin", roles=("admin",))
    admin = {"Authorization": f"Bearer {admin_token}"}
    misspelt = copy.deepcopy(SUBMISSION)
    misspelt["patient"]["email"] = "olena@example.org (home)"
    misspelt["patient"]["nickname"] = "Olena"

    async with AsyncTestClient(create_app(verbose_settings), raise_server_exceptions=False) as c:
        as_site(c, site_key)
        submitted = await c.post(
            "/v1/inquiries", json=SUBMISSION, headers={"Idempotency-Key": "log-1"}
        )
        assert submitted.status_code == 201
        inquiry = submitted.json()
        token = inquiry["access_token"]
        replayed = await c.post(
            "/v1/inquiries", json=SUBMISSION, headers={"Idempotency-Key": "log-1"}
        )
        assert replayed.status_code == 201
        refused = await c.post("/v1/inquiries", json=misspelt, headers={"Idempotency-Key": "log-1"})
        assert refused.status_code == 400
        reused = copy.deepcopy(SUBMISSION)
        reused["description"] = "Olena Kovalenko, shortness of breath, again"
        assert (
            await c.post("/v1/inquiries", json=reused, headers={"Idempotency-Key": "log-1"})
        ).status_code == 422
        # PostgreSQL refuses a NUL in text, with a driver error that quotes the value: today an
        # unhandled error whose exception is logged (a 400 would be better, and fine here).
        unstorable = copy.deepcopy(SUBMISSION)
        unstorable["source"] = "Olena Kovalenko, olena@example.org\u0000"
        assert (await c.post("/v1/inquiries", json=unstorable)).status_code in {400, 500}
        assert (
            await c.get(inquiry["status_url"], headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200
        assert (
            await c.get(inquiry["status_url"], headers={"Authorization": "Bearer Olena"})
        ).status_code == 404
        assert (
            await c.post(f"/v1/inquiries/{inquiry['id']}/erasure", headers=admin)
        ).status_code == 409
        await db.execute(
            "UPDATE inquiries SET status = 'cancelled' WHERE id = $1", uuid.UUID(inquiry["id"])
        )
        assert (
            await c.post(f"/v1/inquiries/{inquiry['id']}/erasure", headers=admin)
        ).status_code == 200
        await eventually(lambda: _outbox_empty(db))

    lines = capsys.readouterr().err.splitlines()
    assert any('"personal data erased"' in line for line in lines), "the capture saw the logs"
    assert any(inquiry["id"] in line for line in lines)
    for line in lines:
        for secret in (*SUBMISSION_PERSONAL, token, admin_token):
            assert secret not in line, f"{secret!r} logged: {line}"


async def _outbox_empty(db: asyncpg.Connection) -> bool:
    return await db.fetchval("SELECT count(*) FROM outbox") == 0
