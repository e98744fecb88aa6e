"""What editors do in the console, with their own token: documents of a collection with where
each stands, and publishing a draft (naming the version the page showed)."""

from __future__ import annotations

from typing import Any

from services.console.domain.documents import COLLECTIONS
from services.console.usecases.apis import Apis, Refused


def _collection(collection: str) -> str:
    if collection not in COLLECTIONS:
        raise Refused(f"there is no collection {collection!r}")
    return collection


def collection_path(collection: str) -> str:
    """The editorial API's path of a known collection; Refused for any other."""
    return f"/v1/editorial/{_collection(collection)}"


async def documents(apis: Apis, token: str, collection: str) -> list[dict[str, Any]]:
    answer = await apis.call(token, "content", "GET", f"/v1/editorial/{_collection(collection)}")
    return list(answer.body)


async def publish(apis: Apis, token: str, collection: str, slug: str, version: int) -> None:
    await apis.call(
        token,
        "content",
        "POST",
        f"/v1/editorial/{_collection(collection)}/{slug}/publish",
        if_match=version,
    )
