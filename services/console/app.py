"""Wiring of the console: settings, the sessions' pool and key ring, the HTTP client of the
other services' APIs, the templates and the static files (served by the console itself)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from services.console.api.admin_pages import AdministrationPages
from services.console.api.context import Wiring, refusal
from services.console.api.coordination_pages import CoordinationPages
from services.console.api.editor_pages import EditorPages, ReviewPages
from services.console.api.health import HealthController
from services.console.api.pages import AdminPages, CoordinatorPages, SessionPages
from services.console.api.support_pages import SupportPages
from services.console.domain.sessions import Timeouts
from services.console.usecases.apis import Apis, ConsoleError
from services.console.usecases.sessions import Sessions
from services.runtime.core.db import create_pool
from services.runtime.core.log import configure_logging
from services.runtime.core.migrate import load_migrations, migrate
from services.runtime.core.settings import PositiveFloat, load_settings_or_exit
from services.runtime.privacy.sealing import SealingSettings, sealing_fields
from services.runtime.service.heap import set_aside_after_startup

HERE = Path(__file__).parent
SCHEMA = "console"
DEFAULT_PORT = 8000


class ConsoleSettings(SealingSettings, frozen=True, kw_only=True, rename="upper"):
    # The key ring that seals each session's staff token at rest.
    encryption_keys: str = sealing_fields("console").keys
    active_key: str = sealing_fields("console").active
    # The APIs the console is a client of.
    console_content_url: str = "http://127.0.0.1:8001"
    console_inquiries_url: str = "http://127.0.0.1:8002"
    console_logistics_url: str = "http://127.0.0.1:8003"
    console_support_url: str = "http://127.0.0.1:8004"
    console_notifications_url: str = "http://127.0.0.1:8005"
    # Seconds a session lives without a request, and at most.
    console_idle_timeout: PositiveFloat = 1800.0
    console_absolute_timeout: PositiveFloat = 43200.0
    # true only on the local stack (plain http): the session cookie then lacks Secure.
    console_insecure_cookies: bool = False
    # Seconds the console waits for an API's answer.
    console_api_timeout: PositiveFloat = 10.0

    def api_urls(self) -> dict[str, str]:
        return {
            "content": self.console_content_url,
            "inquiries": self.console_inquiries_url,
            "logistics": self.console_logistics_url,
            "support": self.console_support_url,
            "notifications": self.console_notifications_url,
        }


def load_settings() -> ConsoleSettings:
    return load_settings_or_exit(ConsoleSettings, port=DEFAULT_PORT)


def create_app(settings: ConsoleSettings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        configure_logging(service="console", level=settings.log_level, fmt=settings.log_format)
        pool = await create_pool(
            settings.database_url,
            schema=SCHEMA,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
        )
        try:
            async with pool.acquire() as conn:
                await migrate(conn, SCHEMA, load_migrations("console", HERE / "migrations"))
            async with httpx.AsyncClient(timeout=settings.console_api_timeout) as client:
                app.state.console = Wiring(
                    sessions=Sessions(
                        pool,
                        settings.key_ring(),
                        Apis(client, settings.api_urls()),
                        Timeouts(
                            idle=timedelta(seconds=settings.console_idle_timeout),
                            absolute=timedelta(seconds=settings.console_absolute_timeout),
                        ),
                    ),
                    apis=Apis(client, settings.api_urls()),
                    secure_cookies=not settings.console_insecure_cookies,
                )
                yield
        finally:
            await pool.close()

    return Litestar(
        route_handlers=[
            SessionPages,
            CoordinatorPages,
            EditorPages,
            ReviewPages,
            AdminPages,
            SupportPages,
            AdministrationPages,
            CoordinationPages,
            HealthController,
            create_static_files_router(path="/static", directories=[HERE / "static"]),
        ],
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        exception_handlers={ConsoleError: refusal},
        lifespan=[lifespan],
        openapi_config=None,
    )


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    return set_aside_after_startup(create_app(load_settings()))
