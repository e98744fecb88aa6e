"""The editorial API: drafts, revisions, publishing and preview links. Editors only; never
cached."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from services.content.api.parameters import (
    ClockDependency,
    ReviewPolicyDependency,
    collection_kind,
)
from services.content.api.preview_tokens import PreviewSigner
from services.content.domain.documents import Document
from services.content.domain.editorial import DocumentRecord
from services.content.domain.revisions import Change
from services.content.usecases import editorial as usecases
from services.runtime.access.staff import Principal, staff_only
from services.runtime.core.errors import BadRequest, FieldProblem
from services.runtime.http.parameters import BIGINT_MAX, PositiveBigint
from services.runtime.http.preconditions import IfMatch, etag, expected_version
from services.runtime.service.running import RuntimeDependency

NO_STORE = "private, no-store"
SignerDependency = NamedDependency[PreviewSigner]


class DocumentState(DocumentRecord, frozen=True, kw_only=True):
    """A document's draft and where it stands, as editors get it."""


class RevisionSummary(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    author: str
    created_at: datetime
    note: str | None


class RevisionDiff(msgspec.Struct, frozen=True, kw_only=True):
    from_revision: int
    to_revision: int
    changes: list[Change]


class PublishRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Empty to publish now; `at` (with a UTC offset) to schedule."""

    at: datetime | None = None


class PreviewLink(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    url: str
    expires_at: datetime


def _state(row: DocumentRecord) -> Response[DocumentState]:
    return Response(
        DocumentState(**msgspec.structs.asdict(row)),
        headers={"ETag": etag(row.version), "Cache-Control": NO_STORE},
    )


def _author(request: Request[Any, Any, Any]) -> str:
    principal: Principal = request.state.principal
    return principal.person


def _now() -> datetime:
    return datetime.now(UTC)


class EditorialController(Controller):
    path = "/v1/editorial"
    tags = ("editorial",)

    @post("/documents", summary="Create a document as a draft (revision 1)", **staff_only("editor"))
    async def create_draft(
        self, request: Request[Any, Any, Any], runtime: RuntimeDependency, data: JSONBody[Document]
    ) -> Response[DocumentState]:
        row = await usecases.create_document(
            runtime.pool, data, author=_author(request), now=_now()
        )
        response = _state(row)
        response.status_code = 201
        return response

    @get(
        "/{collection:str}", summary="List documents with their draft state", **staff_only("editor")
    )
    async def list_drafts(
        self, runtime: RuntimeDependency, collection: FromPath[str]
    ) -> Response[list[DocumentState]]:
        rows = await usecases.list_documents(runtime.pool, collection_kind(collection))
        return Response(
            [DocumentState(**msgspec.structs.asdict(r)) for r in rows],
            headers={"Cache-Control": NO_STORE},
        )

    @get(
        "/{collection:str}/{slug:str}",
        summary="A document's draft and state",
        **staff_only("editor"),
    )
    async def get_draft(
        self, runtime: RuntimeDependency, collection: FromPath[str], slug: FromPath[str]
    ) -> Response[DocumentState]:
        return _state(await usecases.find_document(runtime.pool, collection_kind(collection), slug))

    @put(
        "/{collection:str}/{slug:str}",
        summary="Save the draft as a new revision (If-Match: the version you edited)",
        **staff_only("editor"),
    )
    async def save_draft(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        collection: FromPath[str],
        slug: FromPath[str],
        data: JSONBody[Document],
        if_match: IfMatch = None,
    ) -> Response[DocumentState]:
        row = await usecases.save_draft(
            runtime.pool,
            collection_kind(collection),
            slug,
            data,
            author=_author(request),
            expected_version=expected_version(if_match),
            now=_now(),
        )
        return _state(row)

    @get(
        "/{collection:str}/{slug:str}/revisions",
        summary="Every saved revision, oldest first",
        **staff_only("editor"),
    )
    async def list_revisions(
        self, runtime: RuntimeDependency, collection: FromPath[str], slug: FromPath[str]
    ) -> Response[list[RevisionSummary]]:
        revisions = await usecases.list_revisions(runtime.pool, collection_kind(collection), slug)
        return Response(
            [
                RevisionSummary(
                    number=r.number, author=r.author, created_at=r.created_at, note=r.note
                )
                for r in revisions
            ],
            headers={"Cache-Control": NO_STORE},
        )

    @get(
        "/{collection:str}/{slug:str}/revisions/diff",
        summary="Field-level differences between two revisions",
        **staff_only("editor"),
    )
    async def diff_revisions(
        self,
        runtime: RuntimeDependency,
        collection: FromPath[str],
        slug: FromPath[str],
        from_revision: Annotated[int, QueryParameter(name="from", ge=1, le=BIGINT_MAX)],
        to: Annotated[int | None, QueryParameter(ge=1, le=BIGINT_MAX)] = None,
    ) -> Response[RevisionDiff]:
        target, changes = await usecases.compare_revisions(
            runtime.pool, collection_kind(collection), slug, from_revision, to
        )
        return Response(
            RevisionDiff(from_revision=from_revision, to_revision=target, changes=changes),
            headers={"Cache-Control": NO_STORE},
        )

    @post(
        "/{collection:str}/{slug:str}/revisions/{number:int}/restore",
        summary="Make an earlier revision the draft again (as a new revision)",
        status_code=200,
        **staff_only("editor"),
    )
    async def restore_revision(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        collection: FromPath[str],
        slug: FromPath[str],
        number: PositiveBigint,
        if_match: IfMatch = None,
    ) -> Response[DocumentState]:
        row = await usecases.restore_revision(
            runtime.pool,
            collection_kind(collection),
            slug,
            number,
            author=_author(request),
            expected_version=expected_version(if_match),
            now=_now(),
        )
        return _state(row)

    @post(
        "/{collection:str}/{slug:str}/publish",
        summary=(
            "Publish the draft now, or schedule it (`at`); all problems at once if invalid. "
            "With CONTENT_REQUIRE_REVIEW a condition or treatment needs a medical sign-off "
            "of the revision (409 otherwise)"
        ),
        status_code=200,
        **staff_only("editor"),
    )
    async def publish_document(
        self,
        runtime: RuntimeDependency,
        clock: ClockDependency,
        review_policy: ReviewPolicyDependency,
        collection: FromPath[str],
        slug: FromPath[str],
        data: JSONBody[PublishRequest | None] = None,
        if_match: IfMatch = None,
    ) -> Response[DocumentState]:
        at = data.at if data is not None else None
        if at is not None and at.tzinfo is None:
            raise BadRequest(
                [FieldProblem(field="at", message="needs a UTC offset, e.g. 2027-01-05T08:00:00Z")]
            )
        row = await usecases.publish(
            runtime.pool,
            runtime.outbox,
            collection_kind(collection),
            slug,
            at=at,
            expected_version=expected_version(if_match),
            review_required=review_policy.required,
            now=clock.now(),
        )
        return _state(row)

    @post(
        "/{collection:str}/{slug:str}/unschedule",
        summary="Cancel a scheduled publication",
        status_code=200,
        **staff_only("editor"),
    )
    async def unschedule_publication(
        self, runtime: RuntimeDependency, collection: FromPath[str], slug: FromPath[str]
    ) -> Response[DocumentState]:
        return _state(
            await usecases.cancel_schedule(runtime.pool, collection_kind(collection), slug)
        )

    @post(
        "/{collection:str}/{slug:str}/unpublish",
        summary="Take a published document down",
        status_code=200,
        **staff_only("editor"),
    )
    async def unpublish_document(
        self, runtime: RuntimeDependency, collection: FromPath[str], slug: FromPath[str]
    ) -> Response[DocumentState]:
        row = await usecases.unpublish(
            runtime.pool, runtime.outbox, collection_kind(collection), slug, now=_now()
        )
        return _state(row)

    @post(
        "/{collection:str}/{slug:str}/preview",
        summary="A short-lived link showing the current draft exactly as it will be served",
        status_code=201,
        **staff_only("editor"),
    )
    async def create_preview_link(
        self,
        runtime: RuntimeDependency,
        signer: SignerDependency,
        collection: FromPath[str],
        slug: FromPath[str],
    ) -> Response[PreviewLink]:
        row = await usecases.find_document(runtime.pool, collection_kind(collection), slug)
        token, expires = signer.issue(row.kind, row.slug, row.version)
        return Response(
            PreviewLink(
                token=token,
                url=f"/v1/preview/{token}",
                expires_at=datetime.fromtimestamp(expires, UTC),
            ),
            headers={"Cache-Control": NO_STORE},
        )
