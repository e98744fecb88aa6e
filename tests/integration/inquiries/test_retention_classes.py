"""Each data class is kept for its own period: free text goes before the rest of a closed case,
billing stubs after the accounting period. The scheduled job keeps its schedule and its reports
in PostgreSQL, so a restart neither repeats nor skips a run, and operators read what it purged."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from services.inquiries.app import InquiriesSettings, create_app
from services.inquiries.domain.retention import Periods, Report
from services.inquiries.usecases.privacy.erasure import Erasing
from services.inquiries.usecases.privacy.retention import due, run
from services.runtime.access import staff
from services.runtime.core.db import Pool, create_pool
from services.runtime.core.settings import SettingsError, as_environ, load_settings
from services.runtime.messaging.outbox import Outbox
from tests.integration.inquiries.casefile import CASES, Client, move, step, submit
from tests.support import eventually

NOW = datetime.now(UTC)
PERIODS = Periods(personal_data_days=365, free_text_days=90, billing_years=10)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, schema="inquiries", min_size=1, max_size=2)
    yield pool
    await pool.close()


def erasing(settings: InquiriesSettings) -> Erasing:
    return Erasing(
        outbox=Outbox(source="/carebridge/inquiries", schema="inquiries"),
        keys=settings.key_ring(),
        billing_retention_years=PERIODS.billing_years,
    )


async def worked_case(
    client: Client, coordinator: dict[str, str], db: asyncpg.Connection, closed_days_ago: int
) -> uuid.UUID:
    """A case with a note and a free-text reason, declined `closed_days_ago` days ago."""
    inquiry = (await submit(client))["id"]
    note = await client.post(
        f"{CASES}/{inquiry}/notes",
        json={"text": "Patient anxious about surgery"},
        headers=coordinator,
    )
    assert note.status_code == 201, note.text
    await move(client, coordinator, inquiry, "in_review")
    await step(
        client,
        coordinator,
        inquiry,
        "transitions",
        {"to": "declined", "reason": "echo shows the valve is beyond repair"},
    )
    key = uuid.UUID(inquiry)
    await db.execute(
        "UPDATE inquiries SET updated_at = $2 WHERE id = $1",
        key,
        NOW - timedelta(days=closed_days_ago),
    )
    return key


async def free_text_of(db: asyncpg.Connection, inquiry: uuid.UUID) -> tuple[int, int]:
    """(notes with a body, timeline entries with a reason)."""
    notes = await db.fetchval(
        "SELECT count(*) FROM notes WHERE inquiry_id = $1 AND body IS NOT NULL", inquiry
    )
    reasons = await db.fetchval(
        "SELECT count(*) FROM timeline WHERE inquiry_id = $1 AND detail ? 'reason'", inquiry
    )
    return notes, reasons


async def stub(db: asyncpg.Connection, retain_until: date) -> uuid.UUID:
    """A billing stub as an erasure leaves it, kept until `retain_until`."""
    inquiry = await db.fetchval("SELECT id FROM inquiries LIMIT 1")
    other = uuid.uuid4()
    await db.execute(
        """INSERT INTO inquiries (id, status, version, condition_slug, preferred_country,
                                  services, source, access_token_hash, submitted_at, updated_at,
                                  erased_at)
           SELECT $1, 'completed', 1, condition_slug, preferred_country, services, source,
                  sha256(uuid_send($1)), submitted_at, updated_at, now()
           FROM inquiries WHERE id = $2""",
        other,
        inquiry,
    )
    await db.execute(
        "INSERT INTO billing_stubs (inquiry_id, stub, retain_until) VALUES ($1, '{}', $2)",
        other,
        retain_until,
    )
    return other


async def test_free_text_goes_before_the_rest_and_each_class_is_reported(
    client: Client,
    coordinator: dict[str, str],
    casedb: asyncpg.Connection,
    pool: Pool,
    inquiries_settings: InquiriesSettings,
) -> None:
    # The service's own first run comes at its start; what follows is this test's alone.
    await eventually(lambda: retention_runs(casedb))
    recent = await worked_case(client, coordinator, casedb, closed_days_ago=30)
    middle = await worked_case(client, coordinator, casedb, closed_days_ago=100)
    old = await worked_case(client, coordinator, casedb, closed_days_ago=400)
    expired = await stub(casedb, date(NOW.year - 1, 12, 31))
    current = await stub(casedb, date(NOW.year + 9, 12, 31))

    would, counts = await due(pool, now=NOW, periods=PERIODS)
    assert [c.id for c in would] == [old]
    assert counts == Report(case_personal_data=1, case_free_text=2, billing_stubs=1)
    assert await free_text_of(casedb, middle) == (1, 1)

    report = await run(pool, erasing(inquiries_settings), PERIODS, trigger="command", now=NOW)

    assert report == Report(case_personal_data=1, case_free_text=1, billing_stubs=1)
    assert await free_text_of(casedb, recent) == (1, 1)
    assert await free_text_of(casedb, middle) == (0, 0)
    personal = await casedb.fetch("SELECT id FROM inquiries WHERE personal IS NOT NULL")
    assert {r["id"] for r in personal} >= {recent, middle}
    assert await casedb.fetchval("SELECT erased_at FROM inquiries WHERE id = $1", old)
    stubs = await casedb.fetch("SELECT inquiry_id FROM billing_stubs")
    assert {r["inquiry_id"] for r in stubs} == {current}
    assert expired not in {r["inquiry_id"] for r in stubs}
    (kept,) = [r for r in await retention_runs(casedb) if r["trigger"] == "command"]
    assert msgspec.json.decode(kept["purged"]) == report.counts()

    again = await run(pool, erasing(inquiries_settings), PERIODS, trigger="command", now=NOW)

    assert again == Report()


async def retention_runs(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT trigger, started_at, purged::text AS purged FROM retention_runs ORDER BY id"
    )
    return [dict(r.items()) for r in rows]


def service(settings: InquiriesSettings, interval: str) -> AsyncTestClient[Any]:
    env = as_environ(settings)
    return AsyncTestClient(
        create_app(
            load_settings(
                InquiriesSettings, environ=env | {"INQUIRIES_RETENTION_INTERVAL": interval}
            )
        )
    )


async def test_the_schedule_survives_a_restart_and_replicas_share_it(
    inquiries_settings: InquiriesSettings, casedb: asyncpg.Connection
) -> None:
    interval = timedelta(seconds=5)
    seconds = str(interval.total_seconds())
    async with service(inquiries_settings, seconds), service(inquiries_settings, seconds):

        async def first_run() -> list[dict[str, Any]]:
            return await retention_runs(casedb)

        (first,) = await eventually(first_run)
    assert first["trigger"] == "schedule"
    assert msgspec.json.decode(first["purged"]) == Report().counts()

    # Restarted at once, the service does not run again before the interval since the last
    # run has passed (a schedule kept in memory would run at every start), and then it does.
    async with service(inquiries_settings, seconds):

        async def second_run() -> list[dict[str, Any]] | None:
            runs = await retention_runs(casedb)
            return runs if len(runs) > 1 else None

        runs = await eventually(second_run, timeout=20)
    assert len(runs) == 2
    assert runs[1]["started_at"] - first["started_at"] >= interval


async def test_operators_read_the_periods_and_the_latest_runs(
    client: Client, casedb: asyncpg.Connection, coordinator: dict[str, str]
) -> None:
    _, token = await staff.create_token(casedb, person="Ada Admin", roles=("admin",))
    admin = {"Authorization": f"Bearer {token}"}

    async def reported() -> dict[str, Any] | None:
        body: dict[str, Any] = (await client.get("/v1/retention", headers=admin)).json()
        return body if body["runs"] else None

    body = await eventually(reported)
    assert body["periods"] == {
        "personal_data_days": 365,
        "free_text_days": 90,
        "billing_years": 10,
    }
    assert body["runs"][0]["purged"] == Report().counts()
    assert (await client.get("/v1/retention", headers=coordinator)).status_code == 403


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("INQUIRIES_FREE_TEXT_RETENTION_DAYS", "0"),
        ("INQUIRIES_FREE_TEXT_RETENTION_DAYS", "soon"),
        ("INQUIRIES_BILLING_RETENTION_YEARS", "0"),
        ("INQUIRIES_BILLING_RETENTION_YEARS", "31"),
    ],
)
def test_a_period_out_of_range_names_its_variable(
    inquiries_settings: InquiriesSettings, variable: str, value: str
) -> None:
    env = as_environ(inquiries_settings)
    with pytest.raises(SettingsError, match=variable):
        load_settings(InquiriesSettings, environ=env | {variable: value})
