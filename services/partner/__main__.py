"""`python -m services.partner`: one reference partner, configured by the environment."""

from __future__ import annotations

import uvloop

from services.partner.app import PartnerSettings, serve
from services.runtime.core.log import configure_logging
from services.runtime.core.settings import load_settings_or_exit


def main() -> None:
    settings = load_settings_or_exit(PartnerSettings)
    configure_logging(service="partner", level=settings.log_level, fmt=settings.log_format)
    # The loop the services run on (services/runtime/service/serve.py).
    raise SystemExit(uvloop.run(serve(settings)))


if __name__ == "__main__":
    main()
