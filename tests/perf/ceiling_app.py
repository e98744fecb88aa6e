"""The ceiling for content reads: a bare ASGI app that returns fixed bytes with the same headers
the content service sends. Nothing can serve a document faster on the same server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BODY = Path(os.environ["CEILING_BODY_FILE"]).read_bytes()
HEADERS = [
    (b"content-type", b"application/json"),
    (b"etag", os.environ["CEILING_ETAG"].encode()),
    (b"cache-control", b"public, max-age=300, stale-while-revalidate=86400"),
    (b"content-language", b"en"),
    (b"vary", b"Accept-Language, Accept, Accept-Encoding"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
