"""HTTP door of the consent notices: what a site shows the patient before they submit, per
purpose and in their language, so the version they send with their answers names a text."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from services.inquiries.domain import consent
from services.runtime.core.errors import BadRequest, FieldProblem
from services.runtime.core.locales import LocaleError, negotiate

# A published version never changes, so a shared cache may keep it a day; the current one may
# be replaced by a new version, so it is revalidated sooner.
VERSION_CACHE = "public, max-age=86400"
CURRENT_CACHE = "public, max-age=300"


class ConsentNoticeController(Controller):
    path = "/v1/consent-notices"
    tags = ("consent",)

    @get(
        "/",
        summary="The consent notice a site shows before the patient submits",
        description=(
            "Per purpose: whether it is required, its title and text, who receives the data and "
            "how long it is kept, in the reader's locale (`?locale=`, else Accept-Language; "
            f"written in {', '.join(consent.NOTICE_LANGUAGES)}; a region falls back to its "
            "language and then to en; Content-Language names the one served). The current "
            "version unless `?version=` names an earlier one: a published version never "
            "changes. Send its `version` with the patient's answers when submitting."
        ),
    )
    async def get_consent_notice(
        self,
        request: Request[Any, Any, Any],
        locale: Annotated[str | None, QueryParameter(max_length=20)] = None,
        version: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[consent.ConsentNotice]:
        problems = []
        try:
            reader = negotiate(
                locale, request.headers.get("accept-language"), consent.NOTICE_LANGUAGES
            )
        except LocaleError as exc:
            problems.append(FieldProblem(field="locale", message=str(exc)))
        if version is not None and version not in consent.PUBLISHED:
            problems.append(
                FieldProblem(
                    field="version",
                    message=f"no consent notice has this version; published: "
                    f"{', '.join(consent.PUBLISHED)}",
                )
            )
        if problems:
            raise BadRequest(problems)
        served = consent.notice(reader, version or consent.CURRENT_VERSION)
        return Response(
            served,
            headers={
                "Content-Language": served.locale,
                "Vary": "Accept-Language",
                "Cache-Control": CURRENT_CACHE if version is None else VERSION_CACHE,
            },
        )
