"""The Litestar app of a service, with the consumer-access layer in front of Litestar's own entry
point rather than inside it: answers ready before the app (content's cached reads) then skip
the framework's per-request work too, which costs such a read about a sixth of its Python
(callgrind). Everything else passes the same layers in the same order as before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.spec import OpenAPI
from litestar.types import ASGIApp, ControllerRouterHandler, Message, Send

from services.runtime.http.dependencies import resolve_in_request_task
from services.runtime.http.request_context import HTTP

# What the framework leaves out of the app's OpenAPI document, added to it in place.
CompleteDocument = Callable[[Litestar, OpenAPI], None]


class ServiceApp(Litestar):
    """Litestar whose HTTP requests enter through `front`, once set; `front` reaches the
    framework through `framework`, Litestar's own entry point. Lifespan and websocket scopes
    go to Litestar directly.

    Its OpenAPI document is completed by `complete_document` when it is built: on its first
    read, as Litestar builds it, not when the app is made. Building it is more than half of
    making an app (0.1-0.3 s), which a running service pays once, if ever, and the suite paid
    on each of its hundreds of app starts."""

    front: ASGIApp | None = None

    def __init__(self, *args: Any, complete_document: CompleteDocument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.complete_document = complete_document
        # The framework's plugin, made in Litestar.__init__, given the one step it lacks (same
        # slots: only the class changes).
        self.plugins.get(OpenAPIPlugin).__class__ = _CompletedDocument

    def register(self, value: ControllerRouterHandler) -> None:  # type: ignore[override]  # as Litestar's
        super().register(value)
        # Litestar's __init__ registers the app's handlers through here too.
        resolve_in_request_task(self.routes)

    @property
    def framework(self) -> ASGIApp:
        return super().__call__

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Any, as Litestar's own signature unions lifespan and HTTP types that a layer for
        # HTTP alone does not take.
        if scope["type"] == HTTP and scope["method"] == "HEAD":
            # HEAD is GET without the body (RFC 9110 §9.3.2), for every GET route and the ready
            # answers alike: the same status and header fields, Content-Length and ETag
            # included. Litestar would answer 405 on a route declared for GET alone.
            scope = {**scope, "method": "GET"}
            send = _without_body(send)
        if self.front is not None and scope["type"] == HTTP:
            await self.front(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class _CompletedDocument(OpenAPIPlugin):
    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        document = super()._build_openapi()
        app = self.app
        if isinstance(app, ServiceApp):
            app.complete_document(app, document)
        return document


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head
