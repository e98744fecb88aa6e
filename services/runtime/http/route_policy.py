"""What a route's answers may be to caches and to other origins, decided here once for every
service from the route's options rather than by each handler.

A route whose answers hold personal data (a patient's case, a booking, a dead letter, anything
behind a staff or patient token) sets `PERSONAL_DATA`: its answers, refusals included, carry
`Cache-Control: private, no-store`, so no shared cache or browser disk keeps them, and they are
never `Access-Control-Allow-Origin: *`, which the access layer gives anonymous answers.
`CROSS_ORIGIN` says whether the allowed origin of a caller's API key is still echoed ("key": a
site's own page may read what it submitted or a patient's status) or not at all ("none": staff
routes, which no third-party page calls)."""

from __future__ import annotations

from typing import Any, Literal

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Scope

PERSONAL_DATA = "personal_data"
CROSS_ORIGIN = "cross_origin"
NO_STORE = "private, no-store"
CrossOrigin = Literal["key", "none"]
RawHeaders = list[tuple[bytes, bytes]]

_ALLOW_ORIGIN = b"access-control-allow-origin"
_CORS_PREFIX = b"access-control-"


def personal_data(cross_origin: CrossOrigin) -> dict[str, Any]:
    """Route options (`opt=`) of a route whose answers hold personal data."""
    return {PERSONAL_DATA: True, CROSS_ORIGIN: cross_origin}


def apply_route_policy(scope: Scope, out: MutableScopeHeaders, extra: RawHeaders) -> RawHeaders:
    """Set the answer's caching field and return the outer layers' fields (`extra`) this route
    may carry. Unrouted answers (404, 405) are public and keep everything."""
    handler = scope.get("route_handler")
    if handler is None or not handler.opt.get(PERSONAL_DATA):
        return extra
    out["cache-control"] = NO_STORE
    if handler.opt.get(CROSS_ORIGIN) == "key" and (_ALLOW_ORIGIN, b"*") not in extra:
        return extra
    return [field for field in extra if not field[0].startswith(_CORS_PREFIX)]
