"""Liveness and readiness, as the stack and orchestrators ask every service."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from services.console.api.context import wiring


class HealthController(Controller):
    path = "/health"
    include_in_schema = False

    @get("/live", cache=False)
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", cache=False)
    async def ready(self, request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        try:
            await wiring(request).sessions.pool.fetchval("SELECT 1")
        except (OSError, RuntimeError) as exc:
            return Response(
                {"status": "unavailable", "postgres": type(exc).__name__}, status_code=503
            )
        return Response({"status": "ok"})
