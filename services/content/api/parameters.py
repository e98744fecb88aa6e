"""The parameters every content door reads alike: a collection in the path names a kind, the
reader's locale comes from `?locale=` or Accept-Language, and the app's clock and review policy
come as dependencies."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath

from services.content.clock import Clock
from services.content.domain.locales import LocaleError, negotiate
from services.content.representation import COLLECTION
from services.runtime.core.errors import BadRequest, FieldProblem, NotFound

KIND = {collection: kind for kind, collection in COLLECTION.items()}


def collection_kind(collection: FromPath[str]) -> str:
    kind = KIND.get(collection)
    if kind is None:
        raise NotFound(f"there is no collection {collection!r}; try {', '.join(KIND)}")
    return kind


def reader_locale(request: Request[Any, Any, Any], locale: str | None) -> str:
    try:
        return negotiate(locale, request.headers.get("accept-language"))
    except LocaleError as exc:
        raise BadRequest([FieldProblem(field="locale", message=str(exc))]) from None


class ReviewPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """CONTENT_REQUIRE_REVIEW: whether a medical document needs a sign-off to be published."""

    required: bool


ClockDependency = NamedDependency[Clock]
ReviewPolicyDependency = NamedDependency[ReviewPolicy]
