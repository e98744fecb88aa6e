"""Operation ids a client generator turns into method names: the handler's own name in
camelCase (`list_documents` -> `listDocuments`), so a handler is named for what a caller does
with it, and renaming one is a visible change to the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar.handlers import HTTPRouteHandler
    from litestar.types import Method
    from litestar.types.internal_types import PathParameterDefinition


def camel_case(name: str) -> str:
    head, *rest = name.strip("_").split("_")
    return head + "".join(word.capitalize() for word in rest)


def operation_id(
    handler: HTTPRouteHandler,
    method: Method,  # noqa: ARG001  (the signature Litestar calls)
    path: list[str | PathParameterDefinition],  # noqa: ARG001
) -> str:
    return camel_case(handler.handler_name)
