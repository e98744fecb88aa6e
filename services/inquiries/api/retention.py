"""HTTP door of the retention job: what each data class is kept for, what the latest runs
purged, and a run now, or a dry run that only counts (admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from services.inquiries.api.privacy import ErasingDependency
from services.inquiries.domain.retention import Periods
from services.inquiries.store import retention as store
from services.inquiries.usecases.privacy.retention import due, run
from services.runtime.access.staff import staff_only
from services.runtime.service.running import RuntimeDependency

PeriodsDependency = NamedDependency[Periods]


class RetentionView(msgspec.Struct, frozen=True, kw_only=True):
    periods: Periods
    runs: list[store.Run]


class RunRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """dry_run: count what is due per class, purge nothing and keep no report."""

    dry_run: bool = False


class RunAnswer(msgspec.Struct, frozen=True, kw_only=True):
    dry_run: bool
    purged: dict[str, int]


class RetentionController(Controller):
    path = "/v1/retention"
    tags = ("patient data",)

    @get(
        "/",
        summary="Retention periods per data class, and what the latest runs purged (admin)",
        description=(
            "`periods`: personal and health data and free text count in days after a case "
            "closed, billing stubs in years after the end of the year of erasure. `runs`: the "
            "newest first, each with the number purged per class (cases erased, cases whose "
            "free text was wiped, billing stubs deleted)."
        ),
        **staff_only("admin"),
    )
    async def get_retention_overview(
        self,
        runtime: RuntimeDependency,
        retention_periods: PeriodsDependency,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> RetentionView:
        async with runtime.pool.acquire() as conn:
            runs = await store.latest_runs(conn, limit)
        return RetentionView(periods=retention_periods, runs=runs)

    @post(
        "/runs",
        summary="Apply the retention periods now, or count what is due (dry run) (admin)",
        description=(
            "What `python -m services.inquiries.retention [--dry-run]` does: erase the personal "
            "data of cases closed past their period, wipe free text past its own, delete "
            "billing stubs past theirs. `purged` counts per class; a real run is kept beside "
            "the scheduled ones (trigger `command`), a dry run changes nothing. Due cases are "
            "claimed with SKIP LOCKED, so a run beside the schedule never purges one twice."
        ),
        status_code=200,
        **staff_only("admin"),
    )
    async def run_retention_now(
        self,
        runtime: RuntimeDependency,
        retention_periods: PeriodsDependency,
        erasing: ErasingDependency,
        data: JSONBody[RunRequest | None] = None,
    ) -> RunAnswer:
        request = data or RunRequest()
        now = datetime.now(UTC)
        if request.dry_run:
            _, report = await due(runtime.pool, now=now, periods=retention_periods)
        else:
            report = await run(runtime.pool, erasing, retention_periods, trigger="command", now=now)
        return RunAnswer(dry_run=request.dry_run, purged=report.counts())
