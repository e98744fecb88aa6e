"""A service with a slow route and a slow consumer, served by the production server
(`python -m tests.integration.runtime.draining_service`): what SIGTERM must wait for.

Each slow piece of work touches `<DRAIN_MARKERS>/<name>` when it starts, so a test knows it is in
flight without sleeping."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from litestar import Litestar, get
from litestar.params import FromQuery

from contracts.content import ContentEvent, content_event_decoder
from contracts.envelope import Metadata
from contracts.registry import CONTENT_PUBLISHED
from services.runtime.core.db import Connection
from services.runtime.messaging.inbox import Subscription
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app
from services.runtime.service.running import Runtime
from services.runtime.service.serve import serve

MODULE = "tests.integration.runtime.draining_service"
SLOW_SECONDS = 3.0


def _started(name: str) -> None:
    (Path(os.environ["DRAIN_MARKERS"]) / name).touch()


@get("/slow", cache=False)
async def slow(name: FromQuery[str]) -> str:
    _started(name)
    await asyncio.sleep(SLOW_SECONDS)
    return f"{name} done"


async def slow_apply(conn: Connection, event: ContentEvent, meta: Metadata) -> None:
    _started(f"message-{event.slug}")
    await asyncio.sleep(SLOW_SECONDS)


def _subscriptions(_: Runtime) -> tuple[Subscription[ContentEvent], ...]:
    return (
        Subscription(
            name="draining",
            channels=(CONTENT_PUBLISHED,),
            decoder=content_event_decoder,
            handler=slow_apply,
        ),
    )


DEFINITION = ServiceDefinition(
    name="content",
    title="draining service",
    description="slow work in flight at SIGTERM",
    migrations=Path("/nonexistent"),
    default_port=0,
    route_handlers=(slow,),
    subscriptions=_subscriptions,
)


def app_from_env() -> Litestar:
    return create_service_app(DEFINITION, DEFINITION.load_settings())


if __name__ == "__main__":
    serve(DEFINITION.name, f"{MODULE}:app_from_env", DEFINITION.load_settings())
