"""The error answers, in every service's OpenAPI document: every 4xx/5xx a route can give is an
RFC 9457 problem (services/runtime/http/problems.py), so the document says so, in place of the
framework's default 400 schema, which no route of ours ever sends. Clients then generate one
error type, and schemathesis checks our error answers against the document too. The rate-limit
fields the consumer-access layer adds to answers are declared here as well, for the same reason:
the framework never sees them."""

from __future__ import annotations

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from services.runtime.http.problems import MEDIA_TYPE

PROBLEM = "Problem"
_TEXT = Schema(type=OpenAPIType.STRING)
PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    title=PROBLEM,
    description=(
        "RFC 9457 problem details. `errors` lists every invalid field at once; `allowed` lists "
        "the states an illegal transition could have gone to; quote `request_id` to support."
    ),
    required=["type", "title", "status"],
    properties={
        "type": _TEXT,
        "title": _TEXT,
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": _TEXT,
        "instance": _TEXT,
        "request_id": _TEXT,
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "message"],
                properties={"field": _TEXT, "message": _TEXT},
            ),
        ),
        "allowed": Schema(type=OpenAPIType.ARRAY, items=_TEXT),
    },
)
# draft-ietf-httpapi-ratelimit-headers-11, as services/runtime/access/rate_limit.py sends them.
# Absent when anonymous callers are not limited (ANONYMOUS_RATE_LIMIT=0), so never required.
RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": OpenAPIHeader(
        schema=_TEXT,
        description='The caller\'s quota: `"default";q=600;w=60` is 600 requests a 60 s window.',
    ),
    "RateLimit": OpenAPIHeader(
        schema=_TEXT,
        description=(
            'Where the caller stands: `"default";r=599;t=1` is 599 requests left, and the quota '
            "whole again in 1 s."
        ),
    ),
}
RETRY_AFTER_HEADER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER), description="Seconds to wait before retrying."
)
_OPERATIONAL = ("/health/", "/metrics")
_WRITES = ("post", "put", "patch")


def document_problems(document: OpenAPI, staff_scheme: str, consumer_scheme: str) -> None:
    """Declare the problem answers of every operation in `document`, in place."""
    document.components.schemas[PROBLEM] = PROBLEM_SCHEMA
    document.components.headers = {
        **(document.components.headers or {}),
        **RATE_LIMIT_HEADERS,
        "Retry-After": RETRY_AFTER_HEADER,
    }
    for path, item in (document.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation: Operation | None = getattr(item, method)
            if operation is not None:
                _declare(path, method, operation, staff_scheme, consumer_scheme)


def _declare(
    path: str, method: str, operation: Operation, staff_scheme: str, consumer_scheme: str
) -> None:
    schemes = {name for requirement in operation.security or () for name in requirement}
    statuses = {
        "400": "Invalid request: `errors` names every field at fault",
        "500": "Unexpected error: quote `request_id` to support",
    }
    if staff_scheme in schemes:
        statuses["401"] = "No valid staff token"
        statuses["403"] = "The token lacks the role this route needs"
    if consumer_scheme in schemes:
        statuses["401"] = "No valid API key"
    if "{" in path:
        statuses["404"] = "No such resource"
    if not path.startswith(_OPERATIONAL):
        statuses["429"] = "Rate limit reached: retry after `Retry-After` seconds"
    if method in _WRITES:
        statuses["413"] = "Request body too large"
    responses = operation.responses if operation.responses is not None else {}
    for status, description in statuses.items():
        existing = responses.get(status)
        responses[status] = OpenAPIResponse(
            description=existing.description
            if isinstance(existing, OpenAPIResponse) and status != "400"
            else description,
            content={
                MEDIA_TYPE: OpenAPIMediaType(schema=Reference(f"#/components/schemas/{PROBLEM}"))
            },
        )
    if "429" in statuses:
        # Every answer to a limited caller says where it stands, refusals and errors included.
        for status, response in responses.items():
            if isinstance(response, OpenAPIResponse):
                response.headers = {
                    **(response.headers or {}),
                    **{name: _header(name) for name in RATE_LIMIT_HEADERS},
                    **({"Retry-After": _header("Retry-After")} if status == "429" else {}),
                }
    operation.responses = responses


def _header(name: str) -> Reference:
    return Reference(f"#/components/headers/{name}")
