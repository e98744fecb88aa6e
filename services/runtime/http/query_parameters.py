"""Unknown query parameters are refused on every route of every service: a misspelt filter
(`?specialy=cardiology`) would otherwise be a 200 with every document, and a site would never
learn why its page shows the wrong ones. Checked once per request after routing, before the
handler's own parameters are parsed, against the query parameters the route declares (its own
and its dependencies'), so the OpenAPI document and the check never disagree."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.enums import ParamType
from litestar.handlers import HTTPRouteHandler

from services.runtime.core.errors import BadRequest, FieldProblem

# The route's option holding the query parameters it declares, worked out on its first request
# (kept on the handler itself: an app's handlers live and die with it).
_DECLARED = "declared_query"


def declared_query(handler: HTTPRouteHandler, path_parameters: dict[str, Any]) -> frozenset[str]:
    found: frozenset[str] | None = handler.opt.get(_DECLARED)
    if found is None:
        # Only the names of the path parameters count here, as in Litestar's own call.
        model = handler.create_kwargs_model(path_parameters=path_parameters)
        found = frozenset(
            p.field_alias for p in model.expected_query_params if p.param_type == ParamType.QUERY
        )
        handler.opt[_DECLARED] = found
    return found


async def refuse_unknown_query(request: Request[Any, Any, Any]) -> None:
    """The app's before-request hook: a 400 naming each query parameter the route does not
    declare."""
    query = request.scope["query_string"]
    if not query:
        return
    handler = request.scope["route_handler"]
    if not isinstance(handler, HTTPRouteHandler):
        return
    known = declared_query(handler, request.scope["path_params"])
    sent = {name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)}
    unknown = sorted(sent - known)
    if unknown:
        hint = f"; this route takes {', '.join(sorted(known))}" if known else ""
        raise BadRequest(
            [
                FieldProblem(field=f"query.{name}", message=f"unknown query parameter{hint}")
                for name in unknown
            ]
        )
