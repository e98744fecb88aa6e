"""The editors' and medical reviewers' pages: documents by status, a document's edit form with
its Markdown preview, revisions and their diff, preview links, scheduling, and the medical
review sign-off. Every call is the person's own, and the content API decides."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from services.console.api.context import checked_form, opened, page, remember, whole, wiring
from services.console.domain import drafts, forms
from services.console.domain.documents import COLLECTIONS
from services.console.usecases import drafts as usecases
from services.console.usecases import editing
from services.console.usecases.apis import Refused
from services.console.usecases.sessions import Opened

# The review queue's filter: all, or one of the API's statuses.
REVIEW_STATUSES = ("", "unreviewed", "overdue")


def _checked(build: Any, *args: Any) -> Any:
    """`build(*args)`, a FormProblem shown as the console's plain refusal."""
    try:
        return build(*args)
    except forms.FormProblem as exc:
        raise Refused(str(exc)) from None


async def _document_page(
    request: Request[Any, Any, Any],
    current: Opened,
    collection: str,
    slug: str,
    locale: str,
    *,
    status_code: int = 200,
    sent: dict[str, str] | None = None,
    **extra: Any,
) -> Template:
    """The document's page: the edit form (with what was sent, if anything), its revisions,
    schedule and sign-offs."""
    apis = wiring(request).apis
    found = await usecases.document(apis, current.token, collection, slug)
    text = _checked(drafts.text_of, found["draft"], locale)
    medical = found["kind"] in ("condition", "treatment")
    return page(
        "editor_document.html",
        current,
        status_code=status_code,
        collection=collection,
        document=found,
        locale=locale,
        locales=sorted(found["draft"].get("translations", {})),
        values=drafts.form_values(text, sent),
        revisions=await usecases.revisions(apis, current.token, collection, slug),
        sign_offs=await usecases.sign_offs(apis, current.token, collection, slug)
        if medical
        else [],
        medical=medical,
        **extra,
    )


class EditorPages(Controller):
    include_in_schema = False

    @get("/editor")
    async def documents(
        self,
        request: Request[Any, Any, Any],
        collection: FromQuery[str] = "conditions",
        status: FromQuery[str] = "",
        page_number: FromQuery[int] = 1,
    ) -> Template:
        current = await opened(request)
        remember(request, current)
        if status and status not in drafts.STATUSES:
            raise Refused(f"no status {status!r}")
        found = await usecases.documents(wiring(request).apis, current.token, collection, status)
        rows, more = drafts.page_of(found, page_number)
        return page(
            "editor.html",
            current,
            documents=rows,
            collection=collection,
            collections=COLLECTIONS,
            status=status,
            statuses=drafts.STATUSES,
            page_number=max(page_number, 1),
            more=more,
        )

    @post("/editor/{collection:str}/{slug:str}/publish")
    async def publish(
        self, request: Request[Any, Any, Any], collection: FromPath[str], slug: FromPath[str]
    ) -> Redirect:
        current = await opened(request)
        remember(request, current)
        fields = await checked_form(request, current)
        await editing.publish(
            wiring(request).apis, current.token, collection, slug, whole(fields, "version")
        )
        if fields.get("back") == "document":
            return Redirect(f"/editor/{collection}/{slug}?done=published", status_code=303)
        return Redirect(f"/editor?collection={collection}", status_code=303)

    @get("/editor/{collection:str}/{slug:str}")
    async def document(
        self,
        request: Request[Any, Any, Any],
        collection: FromPath[str],
        slug: FromPath[str],
        locale: FromQuery[str] = "en",
        done: FromQuery[str] = "",
    ) -> Template:
        current = await opened(request)
        remember(request, current)
        return await _document_page(request, current, collection, slug, locale, done=done)

    @post("/editor/{collection:str}/{slug:str}", status_code=200)
    async def edit(
        self, request: Request[Any, Any, Any], collection: FromPath[str], slug: FromPath[str]
    ) -> Template | Redirect:
        """Preview renders the sent Markdown; save stores it as a new revision of the version
        the form showed, or shows what someone else changed meanwhile (nothing overwritten)."""
        current = await opened(request)
        remember(request, current)
        fields = await checked_form(request, current)
        apis = wiring(request).apis
        locale = fields.get("locale", "en")
        version = whole(fields, "version")
        found = await usecases.document(apis, current.token, collection, slug)
        try:
            body = drafts.edited(found["draft"], locale, fields)
        except forms.FormProblem as exc:
            return await _document_page(
                request, current, collection, slug, locale, status_code=400, sent=fields,
                problem=str(exc), edited_version=version,
            )  # fmt: skip
        if fields.get("action") == "preview":
            return await _document_page(
                request, current, collection, slug, locale, sent=fields,
                rendered=drafts.preview(drafts.text_of(body, locale)), edited_version=version,
            )  # fmt: skip
        outcome = await usecases.save(apis, current.token, collection, slug, version, body)
        if isinstance(outcome, usecases.Conflict):
            return page(
                "editor_conflict.html",
                current,
                status_code=409,
                collection=collection,
                slug=slug,
                locale=locale,
                conflict=outcome,
                edited_version=version,
                values=drafts.form_values(drafts.text_of(body, locale), None),
            )
        return Redirect(f"/editor/{collection}/{slug}?locale={locale}&done=saved", status_code=303)

    @get("/editor/{collection:str}/{slug:str}/diff")
    async def diff(
        self,
        request: Request[Any, Any, Any],
        collection: FromPath[str],
        slug: FromPath[str],
        from_revision: FromQuery[int],
        to_revision: FromQuery[int],
    ) -> Template:
        current = await opened(request)
        remember(request, current)
        changes = await usecases.diff(
            wiring(request).apis, current.token, collection, slug, from_revision, to_revision
        )
        return page(
            "editor_diff.html",
            current,
            collection=collection,
            slug=slug,
            from_revision=from_revision,
            to_revision=to_revision,
            changes=changes,
        )

    @post("/editor/{collection:str}/{slug:str}/preview-link", status_code=200)
    async def preview_link(
        self, request: Request[Any, Any, Any], collection: FromPath[str], slug: FromPath[str]
    ) -> Template:
        current = await opened(request)
        remember(request, current)
        fields = await checked_form(request, current)
        link = await usecases.preview_link(wiring(request).apis, current.token, collection, slug)
        review_link = f"/review/{collection}/{slug}?preview={link['token']}"
        return await _document_page(
            request, current, collection, slug, fields.get("locale", "en"),
            link=link, review_link=str(request.base_url).rstrip("/") + review_link,
        )  # fmt: skip

    @post("/editor/{collection:str}/{slug:str}/schedule")
    async def schedule(
        self, request: Request[Any, Any, Any], collection: FromPath[str], slug: FromPath[str]
    ) -> Redirect:
        current = await opened(request)
        remember(request, current)
        fields = await checked_form(request, current)
        at = _checked(forms.clinic_time, fields, "at")
        await usecases.schedule(
            wiring(request).apis, current.token, collection, slug, whole(fields, "version"), at
        )
        return Redirect(f"/editor/{collection}/{slug}?done=scheduled", status_code=303)

    @post("/editor/{collection:str}/{slug:str}/unschedule")
    async def unschedule(
        self, request: Request[Any, Any, Any], collection: FromPath[str], slug: FromPath[str]
    ) -> Redirect:
        current = await opened(request)
        remember(request, current)
        await checked_form(request, current)
        await usecases.unschedule(wiring(request).apis, current.token, collection, slug)
        return Redirect(f"/editor/{collection}/{slug}?done=unscheduled", status_code=303)


class ReviewPages(Controller):
    include_in_schema = False

    @get("/review")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        status: FromQuery[str] = "",
        signed: FromQuery[str] = "",
    ) -> Template:
        """The review queue where the person's token may read it; the API's refusal otherwise
        (it is the editors'), with how a reviewer reaches a document instead."""
        current = await opened(request)
        remember(request, current)
        if status not in REVIEW_STATUSES:
            raise Refused(f"no review status {status!r}")
        found, refusal = await usecases.readable_queue(wiring(request).apis, current.token, status)
        return page(
            "review_queue.html",
            current,
            queue=found,
            refusal=refusal,
            status=status,
            statuses=REVIEW_STATUSES,
            signed=signed,
        )

    @get("/review/{collection:str}/{slug:str}")
    async def review(
        self,
        request: Request[Any, Any, Any],
        collection: FromPath[str],
        slug: FromPath[str],
        preview: FromQuery[str] = "",
    ) -> Template:
        """The draft a preview link shows, and the sign-off of its revision."""
        current = await opened(request)
        remember(request, current)
        editing.collection_path(collection)
        shown = (
            await usecases.previewed(wiring(request).apis, current.token, preview)
            if preview
            else None
        )
        if shown is not None and shown.get("slug") != slug:
            raise Refused("this preview link shows another document")
        return page(
            "review_sign_off.html",
            current,
            collection=collection,
            slug=slug,
            shown=shown,
            sections=drafts.served_sections(shown or {}),
        )

    @post("/review/{collection:str}/{slug:str}/sign-off")
    async def sign_off(
        self, request: Request[Any, Any, Any], collection: FromPath[str], slug: FromPath[str]
    ) -> Redirect:
        current = await opened(request)
        remember(request, current)
        fields = await checked_form(request, current)
        body = _checked(drafts.sign_off_request, fields)
        await usecases.sign_off(wiring(request).apis, current.token, collection, slug, body)
        return Redirect(f"/review?signed={collection}/{slug}", status_code=303)
