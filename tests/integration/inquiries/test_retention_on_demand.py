"""An admin applies the retention periods over HTTP: a dry run counts what is due and changes
nothing; a run purges it and is reported beside the scheduled ones; other roles and bad bodies
are refused and change nothing."""

from __future__ import annotations

import asyncpg

from services.runtime.access import staff
from tests.integration.inquiries.casefile import Client
from tests.integration.inquiries.test_retention_classes import (
    free_text_of,
    retention_runs,
    worked_case,
)
from tests.support import eventually

RUNS = "/v1/retention/runs"


async def test_an_admin_runs_retention_now_after_a_dry_run(
    client: Client, casedb: asyncpg.Connection, coordinator: dict[str, str]
) -> None:
    # The service's own first run comes at its start; what follows is this test's alone.
    await eventually(lambda: retention_runs(casedb))
    _, token = await staff.create_token(casedb, person="Ada Admin", roles=("admin",))
    admin = {"Authorization": f"Bearer {token}"}
    middle = await worked_case(client, coordinator, casedb, closed_days_ago=100)
    old = await worked_case(client, coordinator, casedb, closed_days_ago=400)
    runs = len(await retention_runs(casedb))

    refused = await client.post(RUNS, json={}, headers=coordinator)
    assert refused.status_code == 403
    bad = await client.post(RUNS, json={"dry": True}, headers=admin)
    assert bad.status_code == 400
    assert "dry" in bad.text

    dry = await client.post(RUNS, json={"dry_run": True}, headers=admin)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    assert dry.json()["purged"]["case_personal_data"] >= 1
    assert dry.json()["purged"]["case_free_text"] >= 2
    assert await free_text_of(casedb, middle) == (1, 1)
    assert not await casedb.fetchval("SELECT erased_at FROM inquiries WHERE id = $1", old)
    assert len(await retention_runs(casedb)) == runs

    done = await client.post(RUNS, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["dry_run"] is False
    assert done.json()["purged"]["case_personal_data"] >= 1
    assert await free_text_of(casedb, middle) == (0, 0)
    assert await casedb.fetchval("SELECT erased_at FROM inquiries WHERE id = $1", old)
    kept = await retention_runs(casedb)
    assert len(kept) == runs + 1
    assert kept[-1]["trigger"] == "command"
    assert (
        await casedb.fetchval(
            "SELECT count(*) FROM audit_log WHERE route = '/v1/retention/runs' AND status = 200"
        )
        == 2
    )
