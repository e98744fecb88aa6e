"""The parameters every content door reads alike: a collection in the path names a kind, and the
reader's locale comes from `?locale=` or Accept-Language."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.params import FromPath

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
