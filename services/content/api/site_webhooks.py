"""HTTP doors of sites' webhooks: an API-key holder registers (or replaces), reads and removes
the one webhook of its key, told of `content.published` and `content.unpublished`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, put
from litestar.di import NamedDependency

from services.content.usecases import site_webhooks
from services.runtime.access.api_keys import ApiKey
from services.runtime.access.consumer_access import consumer_only
from services.runtime.http.json_input import json_body
from services.runtime.http.validation import Form, decode_all_problems
from services.runtime.service.running import RuntimeDependency


class SiteWebhooks(msgspec.Struct, frozen=True, kw_only=True):
    """What the service's site webhooks need: the ring that seals their secrets (None: the
    feature is off) and whether URLs may name private addresses."""

    keys: Any
    allow_private: bool


SiteWebhooksDependency = NamedDependency[SiteWebhooks]


class WebhookForm(Form, frozen=True, kw_only=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    events: Annotated[
        tuple[Literal["content.published", "content.unpublished"], ...],
        msgspec.Meta(min_length=1, max_length=2),
    ]


def _consumer(request: Request[Any, Any, Any]) -> str:
    key: ApiKey = request.scope["state"]["consumer"]  # set by the access layer; guard checked
    return key.name


class SiteWebhookController(Controller):
    path = "/v1/webhooks"
    tags = ("site webhooks",)

    @put(
        "/",
        summary="Register or replace this API key's webhook (content published / unpublished)",
        description=(
            'Body: {"url": "https://…", "events": ["content.published", '
            '"content.unpublished"]}. Each event is POSTed with its NATS body as a Standard '
            "Webhook (webhook-id, webhook-timestamp, webhook-signature). The answer that "
            "creates it (201) carries, once, the `whsec_…` signing secret; a replacement (200) "
            "keeps it."
        ),
        **consumer_only(),
    )
    async def register_webhook(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        site_webhooks_config: SiteWebhooksDependency,
    ) -> Response[site_webhooks.Registered]:
        form = decode_all_problems(await json_body(request), WebhookForm)
        created, registered = await site_webhooks.register(
            runtime.pool,
            site_webhooks_config.keys,
            _consumer(request),
            url=form.url,
            events=form.events,
            allow_private=site_webhooks_config.allow_private,
            now=datetime.now(UTC),
        )
        return Response(registered, status_code=201 if created else 200)

    @get("/", summary="This API key's webhook", **consumer_only())
    async def get_webhook(
        self, request: Request[Any, Any, Any], runtime: RuntimeDependency
    ) -> site_webhooks.Registered:
        return await site_webhooks.find(runtime.pool, _consumer(request))

    @delete("/", summary="Remove this API key's webhook", **consumer_only())
    async def remove_webhook(
        self, request: Request[Any, Any, Any], runtime: RuntimeDependency
    ) -> None:
        await site_webhooks.remove(runtime.pool, _consumer(request))
