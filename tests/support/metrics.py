"""A service's metrics as a test reads them: from the listener of their own (METRICS_PORT), since
the API port never serves them."""

from __future__ import annotations

from typing import Any

import httpx

from deploy.embedded import free_port


def own_metrics_port() -> dict[str, str]:
    """Settings that give one service a metrics listener of its own."""
    return {"METRICS_PORT": str(free_port())}


async def metrics_page(client: Any) -> str:
    """The metrics page of the service a test client runs, read from its metrics listener (the
    API port never serves it)."""
    port = client.app.state.runtime.metrics_port
    assert port is not None, "the service has no metrics listener"
    async with httpx.AsyncClient(timeout=5.0) as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    response.raise_for_status()
    return response.text
