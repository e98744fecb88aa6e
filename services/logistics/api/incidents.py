"""HTTP door to partners' breach reports: what happened, and which bookings and cases it
touches, for the staff who assess it and notify the authority and the patients."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, FromQuery, QueryParameter

from contracts.logistics import PartnerId
from services.logistics import usecases
from services.logistics.api import BookingCollaboratorsDependency
from services.logistics.domain import Incident
from services.runtime.access.staff import staff_only

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
        bookings: BookingCollaboratorsDependency,
        partner_id: FromQuery[PartnerId | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 50,
    ) -> list[Incident]:
        return await usecases.incidents_reported(bookings, partner_id=partner_id, limit=limit)

    @get(
        "/{incident_id:uuid}",
        summary="One data-breach report with the bookings and cases it affects",
        **staff_only("coordinator"),
    )
    async def get_incident(
        self, bookings: BookingCollaboratorsDependency, incident_id: FromPath[uuid.UUID]
    ) -> Incident:
        return await usecases.incident(bookings, incident_id)
