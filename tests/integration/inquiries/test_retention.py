"""Personal data of cases closed longer than the retention period is purged: by the command,
and by the service on its own, never twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.inquiries.app import InquiriesSettings, create_app
from services.inquiries.usecases.privacy.erasure import Erasing
from services.inquiries.usecases.privacy.retention import purge_due
from services.runtime.core.db import create_pool
from services.runtime.core.settings import SettingsError, as_environ, load_settings
from services.runtime.messaging.outbox import Outbox
from tests.inquiry_samples import SUBMISSION
from tests.support import eventually

Client = AsyncTestClient[Litestar]
NOW = datetime.now(UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "inquiries"})
    await conn.execute(
        "INSERT INTO known_conditions (slug, revision, locales) "
        "VALUES ('mitral-valve-insufficiency', 1, '{en,de}')"
    )
    yield conn
    await conn.close()


async def case(
    client: Client, db: asyncpg.Connection, status: str, closed_days_ago: int
) -> uuid.UUID:
    """An inquiry as the lifecycle would have left it, `closed_days_ago` days after its last
    change."""
    response = await client.post("/v1/inquiries", json=SUBMISSION)
    assert response.status_code == 201, response.text
    inquiry = uuid.UUID(response.json()["id"])
    await db.execute(
        "UPDATE inquiries SET status = $2, updated_at = $3 WHERE id = $1",
        inquiry,
        status,
        NOW - timedelta(days=closed_days_ago),
    )
    return inquiry


async def erased(db: asyncpg.Connection) -> set[uuid.UUID]:
    rows = await db.fetch("SELECT id FROM inquiries WHERE erased_at IS NOT NULL")
    return {r["id"] for r in rows}


@pytest.fixture
async def cases(client: Client, db: asyncpg.Connection) -> dict[str, uuid.UUID]:
    # The service's own schedule runs once as it starts, then an hour later: made before that
    # first run had ended, a case was purged by it before the test's purge (seen once in a
    # full run). The run is recorded when it ends.
    await eventually(lambda: _scheduled_run_ended(db))
    made = {
        "cancelled long ago": await case(client, db, "cancelled", 400),
        "completed long ago": await case(client, db, "completed", 366),
        "declined recently": await case(client, db, "declined", 30),
        "open long ago": await case(client, db, "in_review", 400),
        "expired long ago": await case(client, db, "expired", 400),
    }
    # The service's relay empties the outbox of the submissions; what comes after is retention's.
    await eventually(lambda: _outbox_empty(db))
    return made


async def _scheduled_run_ended(db: asyncpg.Connection) -> bool:
    return bool(await db.fetchval("SELECT count(*) FROM retention_runs WHERE trigger = 'schedule'"))


async def _outbox_empty(db: asyncpg.Connection) -> bool:
    return await db.fetchval("SELECT count(*) FROM outbox") == 0


@pytest.fixture
def env(inquiries_settings: InquiriesSettings) -> dict[str, str]:
    """The service's settings as environment variables, as the command reads them."""
    return as_environ(inquiries_settings)


def erasing(settings: InquiriesSettings) -> Erasing:
    return Erasing(
        outbox=Outbox(source="/carebridge/inquiries", schema="inquiries"),
        keys=settings.key_ring(),
        billing_retention_years=10,
    )


async def test_only_cases_closed_longer_than_the_period_are_purged(
    db: asyncpg.Connection,
    cases: dict[str, uuid.UUID],
    database_url: str,
    inquiries_settings: InquiriesSettings,
) -> None:
    pool = await create_pool(database_url, schema="inquiries", min_size=1, max_size=2)
    try:
        purged = await purge_due(
            pool,
            erasing(inquiries_settings),
            now=NOW,
            retention_days=365,
        )
    finally:
        await pool.close()

    due = {cases["cancelled long ago"], cases["completed long ago"]}
    assert purged == 2
    assert await erased(db) == due
    rows = await db.fetch("SELECT id, personal FROM inquiries")
    assert {r["id"] for r in rows if r["personal"] is None} == due
    reasons = await db.fetch("SELECT inquiry_id, detail FROM timeline WHERE kind = 'erased'")
    assert {r["inquiry_id"]: msgspec.json.decode(r["detail"]) for r in reasons} == {
        i: {"reason": "retention"} for i in due
    }


async def test_replicas_purging_at_once_purge_each_case_once(
    db: asyncpg.Connection,
    cases: dict[str, uuid.UUID],
    database_url: str,
    inquiries_settings: InquiriesSettings,
) -> None:
    pools = [
        await create_pool(database_url, schema="inquiries", min_size=1, max_size=1)
        for _ in range(3)
    ]
    try:
        counts = await asyncio.gather(
            *(
                purge_due(
                    pool,
                    erasing(inquiries_settings),
                    now=NOW,
                    retention_days=365,
                    batch_size=1,
                )
                for pool in pools
            )
        )
    finally:
        for pool in pools:
            await pool.close()

    assert sum(counts) == 2
    assert await erased(db) == {cases["cancelled long ago"], cases["completed long ago"]}
    erasures = await db.fetchval("SELECT count(*) FROM timeline WHERE kind = 'erased'")
    assert erasures == 2


def retention_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.inquiries.retention", *args],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_command_lists_in_a_dry_run_then_purges_and_sums_up(
    db: asyncpg.Connection,
    cases: dict[str, uuid.UUID],
    env: dict[str, str],
) -> None:
    env = env | {"INQUIRIES_RETENTION_DAYS": "365"}
    due = {cases["cancelled long ago"], cases["completed long ago"]}

    dry = await asyncio.to_thread(retention_command, env, "--dry-run")

    assert dry.returncode == 0, dry.stderr
    assert {line.split()[2] for line in dry.stdout.splitlines() if line.startswith("would")} == {
        str(i) for i in due
    }
    assert "2 inquiries would be purged, nothing changed" in dry.stdout
    assert "dry run per class: case_personal_data 2, case_free_text 0, billing_stubs 0" in (
        dry.stdout
    )
    assert await erased(db) == set()

    real = await asyncio.to_thread(retention_command, env)

    assert real.returncode == 0, real.stderr
    assert {line.split()[1] for line in real.stdout.splitlines() if line.startswith("purged ")} >= {
        str(i) for i in due
    }
    assert "purged the personal data of 2 inquiries" in real.stdout
    assert "purged per class: case_personal_data 2, case_free_text 0, billing_stubs 0" in (
        real.stdout
    )
    trigger = await db.fetchval(
        "SELECT trigger FROM retention_runs WHERE purged ->> 'case_personal_data' = '2'"
    )
    assert trigger == "command"
    assert await erased(db) == due


async def test_the_command_refuses_a_bad_retention_period(
    env: dict[str, str], db: asyncpg.Connection
) -> None:

    result = await asyncio.to_thread(
        retention_command, env | {"INQUIRIES_RETENTION_DAYS": "0"}, "--dry-run"
    )

    assert result.returncode == 2
    assert "INQUIRIES_RETENTION_DAYS" in result.stderr


@pytest.mark.parametrize("value", ["0", "-5", "a year", "36501"])
def test_a_retention_period_out_of_range_names_its_variable(
    env: dict[str, str], value: str
) -> None:
    with pytest.raises(SettingsError, match="INQUIRIES_RETENTION_DAYS"):
        load_settings(InquiriesSettings, environ=env | {"INQUIRIES_RETENTION_DAYS": value})


async def test_the_service_purges_on_its_own_schedule(
    env: dict[str, str], db: asyncpg.Connection, cases: dict[str, uuid.UUID]
) -> None:
    settings = load_settings(
        InquiriesSettings,
        environ=env | {"INQUIRIES_RETENTION_DAYS": "365", "INQUIRIES_RETENTION_INTERVAL": "0.2"},
    )

    async with AsyncTestClient(create_app(settings)):

        async def purged() -> bool:
            return await erased(db) == {cases["cancelled long ago"], cases["completed long ago"]}

        await eventually(purged)
