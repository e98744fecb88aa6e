"""HTTP door to partners' breach reports: what happened, and which bookings and cases it
touches, for the staff who assess it and notify the authority and the patients."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, FromQuery, QueryParameter

from contracts.logistics import PartnerId
from services.logistics import incident_store, usecases
from services.runtime.access.staff import staff_only
from services.runtime.service.definition import KeysDependency, RuntimeDependency

MAX_LIMIT = 100


class IncidentController(Controller):
    path = "/v1/incidents"
    tags = ("incidents",)

    @get(
        "/",
        summary="Partners' data-breach reports, newest first, with the cases they affect",
        **staff_only("coordinator"),
    )
    async def list_incidents(
        self,
        runtime: RuntimeDependency,
        keys: KeysDependency,
        partner_id: FromQuery[PartnerId | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 50,
    ) -> list[incident_store.Incident]:
        async with runtime.pool.acquire() as conn:
            return await incident_store.list_incidents(
                conn, keys, partner_id=partner_id, limit=limit
            )

    @get(
        "/{incident_id:uuid}",
        summary="One data-breach report with the bookings and cases it affects",
        **staff_only("coordinator"),
    )
    async def one(
        self, runtime: RuntimeDependency, keys: KeysDependency, incident_id: FromPath[uuid.UUID]
    ) -> incident_store.Incident:
        return await usecases.incident(runtime.pool, keys, incident_id)
