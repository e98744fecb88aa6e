"""The admins' pages besides dead letters: staff tokens (issue, rotate, revoke), API keys of
third-party consumers (issue, revoke), a service's audit log, and the retention runs with a
run now (or a dry run). Each calls the APIs with the admin's own token; a coordinator's is
refused by the API (403), shown as "not allowed". A bad form is shown again with the reason,
nothing sent or nothing changed; a new secret is rendered once into the answer to the form
that made it, never stored or redirected to."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from services.console.api.context import checked_form, opened_remembered, page, wiring
from services.console.domain import access
from services.console.domain.forms import FormProblem
from services.console.usecases import administration
from services.console.usecases.apis import Refused
from services.console.usecases.sessions import Opened

# A refusal the person can fix on the same page: their form comes back with the reason.
_FIXABLE = (FormProblem, Refused)


class AdministrationPages(Controller):
    """Pages answered to a POST name the page to return to (`here`): the language switch goes
    back there, not to the form's address, which has no GET."""

    include_in_schema = False
    path = "/admin"

    async def _tokens_page(
        self, request: Request[Any, Any, Any], current: Opened, status: int = 200, **shown: Any
    ) -> Template:
        tokens = await administration.staff_tokens(wiring(request).apis, current.token)
        return page(
            "admin_tokens.html",
            current,
            status,
            here="/admin/staff-tokens",
            tokens=tokens,
            roles=access.ROLES,
            role_field=access.ROLE_FIELD,
            **{"issued": None, "problem": "", "entered": {}, **shown},
        )

    @get("/staff-tokens")
    async def staff_tokens(self, request: Request[Any, Any, Any]) -> Template:
        return await self._tokens_page(request, await opened_remembered(request))

    @post("/staff-tokens", status_code=200)
    async def issue_token(self, request: Request[Any, Any, Any]) -> Template:
        current = await opened_remembered(request)
        fields = await checked_form(request, current)
        try:
            issued = await administration.issue_token(
                wiring(request).apis, current.token, access.token_request(fields)
            )
        except _FIXABLE as exc:
            return await self._tokens_page(request, current, 400, problem=str(exc), entered=fields)
        return await self._tokens_page(request, current, issued=issued)

    @post("/staff-tokens/{token_id:uuid}/rotate", status_code=200)
    async def rotate_token(
        self, request: Request[Any, Any, Any], token_id: FromPath[Any]
    ) -> Template:
        current = await opened_remembered(request)
        fields = await checked_form(request, current)
        try:
            rotated = await administration.rotate_token(
                wiring(request).apis, current.token, str(token_id), access.rotation_request(fields)
            )
        except _FIXABLE as exc:
            return await self._tokens_page(request, current, 400, problem=str(exc))
        return await self._tokens_page(request, current, issued=rotated)

    @post("/staff-tokens/{token_id:uuid}/revoke")
    async def revoke_token(
        self, request: Request[Any, Any, Any], token_id: FromPath[Any]
    ) -> Redirect:
        current = await opened_remembered(request)
        await checked_form(request, current)
        await administration.revoke_token(wiring(request).apis, current.token, str(token_id))
        return Redirect("/admin/staff-tokens", status_code=303)

    async def _keys_page(
        self, request: Request[Any, Any, Any], current: Opened, status: int = 200, **shown: Any
    ) -> Template:
        keys = await administration.api_keys(wiring(request).apis, current.token)
        return page(
            "admin_api_keys.html",
            current,
            status,
            here="/admin/api-keys",
            keys=keys,
            kinds=access.KEY_KINDS,
            **{"issued": None, "problem": "", "entered": {}, **shown},
        )

    @get("/api-keys")
    async def api_keys(self, request: Request[Any, Any, Any]) -> Template:
        return await self._keys_page(request, await opened_remembered(request))

    @post("/api-keys", status_code=200)
    async def issue_key(self, request: Request[Any, Any, Any]) -> Template:
        current = await opened_remembered(request)
        fields = await checked_form(request, current)
        try:
            issued = await administration.issue_key(
                wiring(request).apis, current.token, access.key_request(fields)
            )
        except _FIXABLE as exc:
            return await self._keys_page(request, current, 400, problem=str(exc), entered=fields)
        return await self._keys_page(request, current, issued=issued)

    @post("/api-keys/{key_id:uuid}/revoke")
    async def revoke_key(self, request: Request[Any, Any, Any], key_id: FromPath[Any]) -> Redirect:
        current = await opened_remembered(request)
        await checked_form(request, current)
        await administration.revoke_key(wiring(request).apis, current.token, str(key_id))
        return Redirect("/admin/api-keys", status_code=303)

    @get("/audit")
    async def audit(
        self,
        request: Request[Any, Any, Any],
        service: FromQuery[str] = access.ACCESS_SERVICE,
        case: FromQuery[str] = "",
        person: FromQuery[str] = "",
        route: FromQuery[str] = "",
        before_id: FromQuery[str] = "",
    ) -> Template:
        """One service's log, newest first, filtered as the API filters; "next page" links."""
        current = await opened_remembered(request)
        filters = {"case": case.strip(), "person": person.strip(), "route": route.strip()}
        shown: dict[str, Any] = {"entries": [], "following": "", "problem": ""}
        if service not in access.AUDITED:
            shown["problem"] = f"no service {service!r}"
        else:
            try:
                shown["entries"], shown["following"] = await administration.audit_log(
                    wiring(request).apis, current.token, service, filters, before_id.strip()
                )
            except Refused as exc:
                shown["problem"] = str(exc)
        return page(
            "admin_audit.html",
            current,
            400 if shown["problem"] else 200,
            services=access.AUDITED,
            service=service,
            filters=filters,
            **shown,
        )

    @get("/retention")
    async def retention(self, request: Request[Any, Any, Any]) -> Template:
        current = await opened_remembered(request)
        overview = await administration.retention(wiring(request).apis, current.token)
        return page("admin_retention.html", current, overview=overview, ran=None)

    @post("/retention/run", status_code=200)
    async def run_retention(self, request: Request[Any, Any, Any]) -> Template:
        """A run now, or a dry run; the page shows its counts and the runs with it."""
        current = await opened_remembered(request)
        fields = await checked_form(request, current)
        if fields.get("mode") not in ("dry", "run"):
            raise Refused("mode must be dry or run")
        apis = wiring(request).apis
        ran = await administration.run_retention(
            apis, current.token, dry_run=fields["mode"] == "dry"
        )
        overview = await administration.retention(apis, current.token)
        return page(
            "admin_retention.html", current, overview=overview, ran=ran, here="/admin/retention"
        )
