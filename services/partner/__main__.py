"""`python -m services.partner`: one reference partner, configured by the environment; with
`--http` (or `PARTNER_CHANNEL=http`) the one on the webhook channel, without NATS."""

from __future__ import annotations

import os
import sys

import uvloop

from services.partner.app import PartnerSettings, serve
from services.partner.http_channel import HttpPartnerSettings, serve_http
from services.runtime.core.log import configure_logging
from services.runtime.core.settings import load_settings_or_exit


def main() -> None:
    if "--http" in sys.argv[1:] or os.environ.get("PARTNER_CHANNEL") == "http":
        http = load_settings_or_exit(HttpPartnerSettings)
        configure_logging(service="partner", level=http.log_level, fmt=http.log_format)
        raise SystemExit(serve_http(http))
    settings = load_settings_or_exit(PartnerSettings)
    configure_logging(service="partner", level=settings.log_level, fmt=settings.log_format)
    # The loop the services run on (services/runtime/service/serve.py).
    raise SystemExit(uvloop.run(serve(settings)))


if __name__ == "__main__":
    main()
