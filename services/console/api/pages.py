"""The console's pages and forms. Each handler opens the session, calls one use case with the
person's token and renders; the APIs decide what is allowed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from services.console.api.context import (
    checked_form,
    clear_session_cookie,
    opened,
    page,
    set_session_cookie,
    wiring,
)
from services.console.api.context import remember as _remember
from services.console.api.context import whole as _int
from services.console.api.coordination_pages import case_context, form_refused, guarded
from services.console.domain import coordination as views
from services.console.domain import forms
from services.console.domain import roles as role_probes
from services.console.domain.labels import LANGUAGES
from services.console.usecases import casework, coordination
from services.console.usecases.apis import ForgedForm, Refused


class SessionPages(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Redirect:
        current = await opened(request)
        return Redirect(role_probes.home(current.session.roles), status_code=303)

    @get("/sign-in")
    async def sign_in_page(self, expired: FromQuery[bool] = False) -> Template:
        return page("sign_in.html", None, expired=expired, refused=False)

    @post("/sign-in")
    async def sign_in(self, request: Request[Any, Any, Any]) -> Response[Any]:
        # No session yet, so no CSRF token: a sign-in posted from another site (to sign the
        # victim in as the attacker) is refused by its Origin, which browsers always send.
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
            raise ForgedForm("sign-in from another origin")
        form = await request.form()
        locale = str(form.get("locale") or "en")
        session_id = await wiring(request).sessions.sign_in(
            str(form.get("token") or ""),
            locale if locale in LANGUAGES else "en",
            datetime.now(UTC),
        )
        if session_id is None:
            return page("sign_in.html", None, 401, expired=False, refused=True)
        redirect = Redirect("/", status_code=303)
        set_session_cookie(redirect, request, session_id)
        return redirect

    @post("/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any]) -> Redirect:
        current = await opened(request)
        await checked_form(request, current)
        await wiring(request).sessions.sign_out(current.session)
        redirect = Redirect("/sign-in", status_code=303)
        clear_session_cookie(redirect, request)
        return redirect

    @post("/language")
    async def choose_language(self, request: Request[Any, Any, Any]) -> Redirect:
        current = await opened(request)
        fields = await checked_form(request, current)
        if fields.get("locale") in LANGUAGES:
            await wiring(request).sessions.choose_language(current.session, fields["locale"])
        back = fields.get("back", "/inbox")
        return Redirect(
            back if back.startswith("/") and not back.startswith("//") else "/inbox",
            status_code=303,
        )


class CoordinatorPages(Controller):
    include_in_schema = False

    @get("/inbox")
    async def inbox(
        self,
        request: Request[Any, Any, Any],
        status: FromQuery[str] = "",
        queue: FromQuery[str] = "",
        cursor: FromQuery[str] = "",
        view: FromQuery[str] = "",
        before: FromQuery[str] = "",
    ) -> Template:
        """The free filters (queue and status), or one of the named views (`view`)."""
        current = await opened(request)
        _remember(request, current)
        if view:
            chosen = views.inbox_view(view, datetime.now(UTC), before)
            if chosen is None:
                raise Refused(f"no inbox view {view!r}")
            before = chosen.params.get("offer_expires_before", "")
            found = await coordination.cases_in_view(
                wiring(request).apis, current.token, chosen, cursor
            )
        else:
            found = await casework.inbox(
                wiring(request).apis,
                current.token,
                status=status,
                unassigned=queue == "unassigned",
                cursor=cursor,
            )
        return page(
            "inbox.html",
            current,
            cases=found,
            status=status,
            queue=queue,
            view=view,
            before=before,
            views=views.VIEWS,
        )

    @get("/cases/{case_id:uuid}")
    async def case(self, request: Request[Any, Any, Any], case_id: FromPath[Any]) -> Template:
        current = await opened(request)
        _remember(request, current)
        context = await case_context(wiring(request).apis, current.token, str(case_id))
        return page("case.html", current, **context)

    @post("/cases/{case_id:uuid}/assign")
    async def assign(self, request: Request[Any, Any, Any], case_id: FromPath[Any]) -> Redirect:
        current = await opened(request)
        _remember(request, current)
        fields = await checked_form(request, current)
        await guarded(
            request,
            current,
            str(case_id),
            fields,
            casework.assign(
                wiring(request).apis,
                current.token,
                str(case_id),
                _int(fields, "version"),
                fields.get("coordinator", "").strip(),
            ),
        )
        return Redirect(f"/cases/{case_id}", status_code=303)

    @post("/cases/{case_id:uuid}/transition")
    async def transition(self, request: Request[Any, Any, Any], case_id: FromPath[Any]) -> Redirect:
        current = await opened(request)
        _remember(request, current)
        fields = await checked_form(request, current)
        await guarded(
            request,
            current,
            str(case_id),
            fields,
            casework.transition(
                wiring(request).apis,
                current.token,
                str(case_id),
                _int(fields, "version"),
                fields.get("to", ""),
                fields.get("reason", "").strip(),
            ),
        )
        return Redirect(f"/cases/{case_id}", status_code=303)

    @post("/cases/{case_id:uuid}/accept")
    async def accept(self, request: Request[Any, Any, Any], case_id: FromPath[Any]) -> Redirect:
        current = await opened(request)
        _remember(request, current)
        fields = await checked_form(request, current)
        await guarded(
            request,
            current,
            str(case_id),
            fields,
            casework.accept_offer(
                wiring(request).apis,
                current.token,
                str(case_id),
                _int(fields, "version"),
                _int(fields, "offer_version"),
            ),
        )
        return Redirect(f"/cases/{case_id}", status_code=303)

    @post("/cases/{case_id:uuid}/notes")
    async def add_note(self, request: Request[Any, Any, Any], case_id: FromPath[Any]) -> Redirect:
        current = await opened(request)
        _remember(request, current)
        fields = await checked_form(request, current)
        text = fields.get("text", "").strip()
        if not text:
            raise Refused("text is required")
        await casework.add_note(wiring(request).apis, current.token, str(case_id), text)
        return Redirect(f"/cases/{case_id}", status_code=303)

    @get("/bookings")
    async def bookings(
        self,
        request: Request[Any, Any, Any],
        status: FromQuery[str] = "",
        kind: FromQuery[str] = "",
        cursor: FromQuery[str] = "",
    ) -> Template:
        """Bookings by status and kind; the unassigned ones first in the status list."""
        current = await opened(request)
        _remember(request, current)
        if status and status not in casework.BOOKING_STATUSES:
            raise Refused(f"no booking status {status!r}")
        if kind and kind not in casework.BOOKING_KINDS:
            raise Refused(f"no booking kind {kind!r}")
        found = await casework.bookings(
            wiring(request).apis, current.token, status=status, kind=kind, cursor=cursor
        )
        return page(
            "bookings.html",
            current,
            bookings=found,
            status=status,
            kind=kind,
            statuses=casework.BOOKING_STATUSES,
            kinds=casework.BOOKING_KINDS,
        )

    @post("/cases/{case_id:uuid}/{step:str}")
    async def send(
        self, request: Request[Any, Any, Any], case_id: FromPath[Any], step: FromPath[str]
    ) -> Redirect:
        """The offer, the confirmation with the travel plan, or the discharge."""
        current = await opened(request)
        _remember(request, current)
        fields = await checked_form(request, current)
        build = _STEPS.get(step)
        if build is None:
            raise Refused(f"no such step: {step}")
        apis = wiring(request).apis
        try:
            body = build(fields)
        except forms.FormProblem as exc:
            # Nothing is sent: the form again, the values kept, the mistake by its field.
            raise await form_refused(
                apis, current, str(case_id), fields, {exc.field: str(exc)}
            ) from None
        await guarded(
            request,
            current,
            str(case_id),
            fields,
            casework.send(apis, current.token, str(case_id), _int(fields, "version"), step, body),
        )
        return Redirect(f"/cases/{case_id}", status_code=303)


_STEPS = {
    "offers": forms.offer_request,
    "confirmation": forms.confirmation_request,
    "discharge": forms.discharge_request,
}


class AdminPages(Controller):
    include_in_schema = False

    @get("/admin/dead-letters")
    async def dead_letters(self, request: Request[Any, Any, Any]) -> Template:
        current = await opened(request)
        _remember(request, current)
        letters = await casework.dead_letters(wiring(request).apis, current.token)
        return page("dead_letters.html", current, letters=letters)

    @post("/admin/dead-letters/replay", status_code=200)
    async def replay(self, request: Request[Any, Any, Any]) -> Template:
        current = await opened(request)
        _remember(request, current)
        fields = await checked_form(request, current)
        service = fields.get("service", "")
        if service not in wiring(request).apis.urls:
            raise Refused("unknown service")
        apis = wiring(request).apis
        outcome = await casework.replay(apis, current.token, service, _int(fields, "id"))
        letters = await casework.dead_letters(apis, current.token)
        replayed = {"service": service, "id": fields["id"], "outcome": outcome}
        return page("dead_letters.html", current, letters=letters, replayed=replayed)
