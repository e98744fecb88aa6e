"""The Litestar app of a service, with the consumer-access layer in front of Litestar's own entry
point rather than inside it: answers ready before the app (content's cached reads) then skip
the framework's per-request work too, which costs such a read about a sixth of its Python
(callgrind). Everything else passes the same layers in the same order as before."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.types import ASGIApp, Message, Send

from services.runtime.http.request_context import HTTP


class ServiceApp(Litestar):
    """Litestar whose HTTP requests enter through `front`, once set; `front` reaches the
    framework through `framework`, Litestar's own entry point. Lifespan and websocket scopes
    go to Litestar directly."""

    front: ASGIApp | None = None

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


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head
