"""The medical review API: admins keep reviewer profiles, medical reviewers sign revisions off,
editors see each document's sign-offs and the queue of published medical documents that are
unreviewed or overdue. Never cached."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from services.content.api.editorial import NO_STORE
from services.content.api.parameters import ClockDependency, collection_kind
from services.content.domain.documents import ShortText
from services.content.domain.reviews import (
    RegistrationNumber,
    ReviewerProfile,
    ReviewState,
    SignOff,
)
from services.content.representation import COLLECTION
from services.content.usecases import reviews as usecases
from services.content.usecases.reviews import QueueStatus
from services.runtime.access.staff import Principal, staff_only
from services.runtime.service.running import RuntimeDependency

Person = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ReviewerInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What readers are shown of a medical reviewer. `active: false` ends their sign-offs
    (those already given stay as they were recorded)."""

    name: ShortText
    qualification: ShortText
    registration_number: RegistrationNumber | None = None
    active: bool = True


class SignOffRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`revision`: the draft revision you reviewed (it must still be the current one);
    `next_review_due`: when the text must be reviewed again (after today, within three years)."""

    revision: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
    next_review_due: date
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None


class QueuedDocument(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    slug: str
    url: str
    revision: int
    published_at: datetime
    review: ReviewState


class ReviewController(Controller):
    path = "/v1/editorial"
    tags = ("review",)

    @get("/reviewers", summary="Every medical reviewer profile", **staff_only("admin"))
    async def list_reviewers(self, runtime: RuntimeDependency) -> Response[list[ReviewerProfile]]:
        return Response(
            await usecases.list_reviewers(runtime.pool), headers={"Cache-Control": NO_STORE}
        )

    @put(
        "/reviewers/{person:str}",
        summary="Create or change the medical reviewer profile of a staff person",
        **staff_only("admin"),
    )
    async def save_reviewer(
        self,
        runtime: RuntimeDependency,
        clock: ClockDependency,
        person: FromPath[Person],
        data: JSONBody[ReviewerInput],
    ) -> Response[ReviewerProfile]:
        profile = ReviewerProfile(person=person, **msgspec.structs.asdict(data))
        await usecases.save_reviewer(runtime.pool, profile, now=clock.now())
        return Response(profile, headers={"Cache-Control": NO_STORE})

    @post(
        "/{collection:str}/{slug:str}/sign-offs",
        summary=(
            "Sign the current draft revision off as a medical reviewer who wrote none of it; "
            "it goes out with the next publication of that revision"
        ),
        **staff_only("medical_reviewer"),
    )
    async def sign_off(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        clock: ClockDependency,
        collection: FromPath[str],
        slug: FromPath[str],
        data: JSONBody[SignOffRequest],
    ) -> Response[SignOff]:
        principal: Principal = request.state.principal
        decided = await usecases.sign_off(
            runtime.pool,
            collection_kind(collection),
            slug,
            person=principal.person,
            revision=data.revision,
            next_review_due=data.next_review_due,
            note=data.note,
            now=clock.now(),
        )
        return Response(decided, status_code=201, headers={"Cache-Control": NO_STORE})

    @get(
        "/{collection:str}/{slug:str}/sign-offs",
        summary="Every sign-off of a document, oldest first",
        **staff_only("editor"),
    )
    async def list_sign_offs(
        self, runtime: RuntimeDependency, collection: FromPath[str], slug: FromPath[str]
    ) -> Response[list[SignOff]]:
        found = await usecases.list_sign_offs(runtime.pool, collection_kind(collection), slug)
        return Response(found, headers={"Cache-Control": NO_STORE})

    @get(
        "/review-queue",
        summary="Published conditions and treatments that are unreviewed or overdue",
        **staff_only("editor"),
    )
    async def review_queue(
        self,
        runtime: RuntimeDependency,
        clock: ClockDependency,
        status: FromQuery[QueueStatus | None] = None,
    ) -> Response[list[QueuedDocument]]:
        found = await usecases.review_queue(runtime.pool, status=status, now=clock.now())
        return Response(
            [
                QueuedDocument(
                    kind=row.kind,
                    slug=row.slug,
                    url=f"/v1/{COLLECTION[row.kind]}/{row.slug}",
                    revision=row.revision,
                    published_at=row.published_at,
                    review=state,
                )
                for row, state in found
            ],
            headers={"Cache-Control": NO_STORE},
        )
