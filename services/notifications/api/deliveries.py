"""HTTP door to the delivery state of messages: what was sent, is pending or failed, and why
(a code, never an address), for the staff who follow up a failure."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from services.notifications import usecases
from services.notifications.store.notifications import NotificationRow
from services.runtime.access.staff import staff_only
from services.runtime.service.running import RuntimeDependency

MAX_LIMIT = 200


class NotificationController(Controller):
    path = "/v1/notifications"
    tags = ("notifications",)

    @get(
        "/",
        summary="Messages to patients and staff, newest first, with their delivery state",
        **staff_only("coordinator"),
    )
    async def list_notifications(
        self,
        runtime: RuntimeDependency,
        status: FromQuery[Literal["pending", "sent", "failed", "cancelled"] | None] = None,
        inquiry_id: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 50,
    ) -> list[NotificationRow]:
        return await usecases.notifications_listed(
            runtime.pool, status=status, inquiry_id=inquiry_id, limit=limit
        )
