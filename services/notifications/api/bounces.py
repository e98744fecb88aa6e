"""The bounce door: an SMTP listener (aiosmtpd, in the service's own event loop) that the
operator's inbound MX relays `bounces+*@domain` to. It takes delivery-status reports (RFC 3464)
addressed to a message's return path and records each permanent failure on its message; it
refuses mail for any other address. Off unless NOTIFICATIONS_BOUNCE_PORT is set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.smtp import SMTP

from services.notifications import usecases
from services.notifications.domain import bounces


class BounceHandler:
    """aiosmtpd's handler hooks: RCPT accepts only our return paths, DATA records the report."""

    def __init__(self, d: usecases.Notifying, bounce_address: str) -> None:
        self.d = d
        self.bounce_address = bounce_address

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if bounces.notification_of(address, self.bounce_address) is None:
            return "550 5.1.1 not a return path of ours"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        statuses = bounces.failed_statuses(envelope.original_content or envelope.content)
        now = datetime.now(UTC)
        for address in envelope.rcpt_tos:
            notification_id = bounces.notification_of(address, self.bounce_address)
            if notification_id is not None and statuses:
                await usecases.record_bounce(self.d, notification_id, statuses[0], now)
        return "250 OK"


async def serve(
    d: usecases.Notifying, *, bounce_address: str, host: str, port: int, stop: asyncio.Event
) -> None:
    """Listen until `stop`."""
    handler = BounceHandler(d, bounce_address)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="carebridge-bounces", loop=loop), host=host, port=port
    )
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
