"""HTTP door of the retention job: what each data class is kept for, and what the latest runs
purged (admin)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from services.inquiries.domain.retention import Periods
from services.inquiries.store import retention as store
from services.runtime.access.staff import staff_only
from services.runtime.service.running import RuntimeDependency

PeriodsDependency = NamedDependency[Periods]


class RetentionView(msgspec.Struct, frozen=True, kw_only=True):
    periods: Periods
    runs: list[store.Run]


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
