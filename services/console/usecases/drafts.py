"""What editors and medical reviewers do with one document, with their own token: read and save
its draft (naming the version edited), its revisions and their diff, a preview link, a
scheduled publication and its cancellation, the review queue, a preview read by its link and a
medical sign-off. The content API decides every one of them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec

from services.console.domain import drafts
from services.console.domain.documents import standing
from services.console.usecases.apis import Apis, Changed, NotAllowed
from services.console.usecases.editing import collection_path


class Conflict(msgspec.Struct, frozen=True, kw_only=True):
    """A save refused because someone saved first: the document as it is now, and what changed
    between the version the person edited and that one."""

    current: dict[str, Any]
    changes: list[drafts.FieldDiff]
    detail: str


async def documents(apis: Apis, token: str, collection: str, status: str) -> list[dict[str, Any]]:
    """The collection's documents, each with where it stands, narrowed to `status`; for
    needs_review, those the review queue names (unreviewed or overdue), with its verdict."""
    answer = await apis.call(token, "content", "GET", collection_path(collection))
    rows = [{**d, "standing": standing(d)} for d in answer.body]
    if status == "needs_review":
        queued = {
            (q["kind"], q["slug"]): q["review"]["status"]
            for q in await review_queue(apis, token, "")
        }
        return [
            {**d, "review": queued[(d["kind"], d["slug"])]}
            for d in rows
            if (d["kind"], d["slug"]) in queued
        ]
    return [d for d in rows if not status or d["standing"] == status]


async def document(apis: Apis, token: str, collection: str, slug: str) -> dict[str, Any]:
    answer = await apis.call(token, "content", "GET", _path(collection, slug))
    return {**answer.body, "standing": standing(answer.body)}


async def save(
    apis: Apis, token: str, collection: str, slug: str, version: int, body: dict[str, Any]
) -> dict[str, Any] | Conflict:
    """The saved document, or the Conflict when `version` is no longer the current one."""
    try:
        answer = await apis.call(
            token, "content", "PUT", _path(collection, slug), body=body, if_match=version
        )
    except Changed as refused:
        current = await document(apis, token, collection, slug)
        changes = await diff(apis, token, collection, slug, version, int(current["version"]))
        return Conflict(current=current, changes=changes, detail=refused.detail)
    saved: dict[str, Any] = answer.body
    return saved


async def revisions(apis: Apis, token: str, collection: str, slug: str) -> list[dict[str, Any]]:
    answer = await apis.call(token, "content", "GET", _path(collection, slug) + "/revisions")
    return list(answer.body)


async def diff(
    apis: Apis, token: str, collection: str, slug: str, from_revision: int, to_revision: int
) -> list[drafts.FieldDiff]:
    answer = await apis.call(
        token,
        "content",
        "GET",
        _path(collection, slug) + "/revisions/diff",
        params={"from": str(from_revision), "to": str(to_revision)},
    )
    return drafts.field_diffs(answer.body["changes"])


async def preview_link(apis: Apis, token: str, collection: str, slug: str) -> dict[str, Any]:
    """A short-lived link to the current draft as it will be served; the URL absolute, as the
    person copies it."""
    answer = await apis.call(token, "content", "POST", _path(collection, slug) + "/preview")
    return {**answer.body, "url": apis.urls["content"] + answer.body["url"]}


async def schedule(
    apis: Apis, token: str, collection: str, slug: str, version: int, at: str
) -> None:
    await apis.call(
        token,
        "content",
        "POST",
        _path(collection, slug) + "/publish",
        body={"at": at},
        if_match=version,
    )


async def unschedule(apis: Apis, token: str, collection: str, slug: str) -> None:
    await apis.call(token, "content", "POST", _path(collection, slug) + "/unschedule")


async def sign_offs(apis: Apis, token: str, collection: str, slug: str) -> list[dict[str, Any]]:
    answer = await apis.call(token, "content", "GET", _path(collection, slug) + "/sign-offs")
    return list(answer.body)


async def review_queue(apis: Apis, token: str, status: str) -> list[dict[str, Any]]:
    answer = await apis.call(
        token, "content", "GET", "/v1/editorial/review-queue", params={"status": status}
    )
    return list(answer.body)


async def readable_queue(
    apis: Apis, token: str, status: str
) -> tuple[list[dict[str, Any]], str | None]:
    """The review queue, or the API's refusal: the queue is the editors' (a medical reviewer
    without the editor role signs off from an editor's review link instead)."""
    try:
        return await review_queue(apis, token, status), None
    except NotAllowed as refused:
        return [], refused.detail


async def previewed(apis: Apis, token: str, preview_token: str) -> dict[str, Any]:
    """The draft a preview link shows, as it will be served (the link is the credential)."""
    answer = await apis.call(
        token,
        "content",
        "GET",
        "/v1/preview/" + quote(preview_token, safe=""),
        params={"locale": "en"},
    )
    found: dict[str, Any] = answer.body
    return found


async def sign_off(
    apis: Apis, token: str, collection: str, slug: str, body: dict[str, Any]
) -> dict[str, Any]:
    answer = await apis.call(
        token, "content", "POST", _path(collection, slug) + "/sign-offs", body=body
    )
    found: dict[str, Any] = answer.body
    return found


def _path(collection: str, slug: str) -> str:
    return f"{collection_path(collection)}/{quote(slug, safe='')}"
