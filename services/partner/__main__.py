"""`python -m services.partner`: one reference partner, configured by the environment."""

from __future__ import annotations

import asyncio
import signal

import structlog
import uvloop

from services.partner.app import PartnerSettings, ReferencePartner
from services.runtime.core.log import configure_logging
from services.runtime.core.settings import load_settings_or_exit

log = structlog.get_logger("services.partner")


async def serve(settings: PartnerSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        bus = await settings.connect(f"partner-{settings.partner_id}")
    except ConnectionError as exc:
        # The message names the URL; a traceback would add nothing to a configuration error.
        log.error("cannot reach NATS", error=str(exc))  # noqa: TRY400
        return 1
    log.info(
        "partner started",
        partner_id=settings.partner_id,
        kinds=settings.partner_kinds,
        accept_rate=settings.accept_rate,
    )
    try:
        await ReferencePartner(settings, bus).run(stop)
    finally:
        await bus.close()
        log.info("partner stopped", partner_id=settings.partner_id)
    return 0


def main() -> None:
    settings = load_settings_or_exit(PartnerSettings)
    configure_logging(service="partner", level=settings.log_level, fmt=settings.log_format)
    # The loop the services run on (services/runtime/service/serve.py).
    raise SystemExit(uvloop.run(serve(settings)))


if __name__ == "__main__":
    main()
