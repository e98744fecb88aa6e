"""Signed draft previews: whoever holds a preview link sees one draft version exactly as it
will be served, without staff credentials."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotAuthorizedException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery

from services.content.api.editorial import NO_STORE, SignerDependency
from services.content.api.parameters import ClockDependency, reader_locale
from services.content.api.preview_tokens import PreviewError
from services.content.api.shapes import ServedDocument
from services.content.usecases.previews import preview_draft
from services.runtime.service.running import RuntimeDependency


class PreviewController(Controller):
    path = "/v1/preview"
    tags = ("editorial",)

    @get(
        "/{token:str}",
        summary="A draft version exactly as it will be served; the signed token is the credential",
        cache_control=None,
        responses={
            200: ResponseSpec(
                ServedDocument, generate_examples=False, description="The draft, as it will read"
            )
        },
    )
    async def get_preview(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        signer: SignerDependency,
        clock: ClockDependency,
        token: FromPath[str],
        locale: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        try:
            grant = signer.verify(token)
        except PreviewError as exc:
            raise NotAuthorizedException(str(exc)) from None
        entry = await preview_draft(
            runtime.pool,
            kind=grant.kind,
            slug=grant.slug,
            version=grant.version,
            locale=reader_locale(request, locale),
            now=clock.now(),
        )
        return Response(
            entry.body,
            media_type="application/json",
            headers={"Cache-Control": NO_STORE, "Content-Language": entry.content_language or ""},
        )
