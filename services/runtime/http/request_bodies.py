"""The JSON body of a route that reads its body itself (to hash it for idempotency, or to report
every problem at once with `decode_all_problems`) declared in the OpenAPI document, so a client
generated from the document knows what to send. A route names its body type in its options:
`opt=json_body_of(SubmitInquiry)`; `document_bodies` writes the request bodies and their
schemas (msgspec's JSON Schema, the same the route decodes with) into the app's document."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import OpenAPI, OpenAPIMediaType, Reference, RequestBody
from litestar.routes import HTTPRoute

BODY = "json_body"
_REF = "#/components/schemas/{name}"


def json_body_of(body_type: type[msgspec.Struct]) -> dict[str, Any]:
    """Route options (`opt=`) naming the type its JSON body decodes to."""
    return {BODY: body_type}


def document_bodies(app: Litestar, document: OpenAPI) -> None:
    """Declare in `document`, the app's, the body of every route that names one
    (`json_body_of`)."""
    if document.paths is None:
        return
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            body_type = handler.opt.get(BODY)
            item = document.paths.get(route.path_format)
            if body_type is None or item is None:
                continue
            (schema,), components = msgspec.json.schema_components([body_type], ref_template=_REF)
            schemas: dict[str, Any] = document.components.schemas
            for name, component in components.items():
                # Raw JSON Schema: the document renders dicts as they are.
                schemas.setdefault(name, component)
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if operation is not None:
                    operation.request_body = RequestBody(
                        content={
                            "application/json": OpenAPIMediaType(
                                schema=Reference(ref=schema["$ref"])
                            )
                        },
                        required=True,
                    )
