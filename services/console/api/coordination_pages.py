"""Coordination pages and what the case page's forms share: the case page's context (with the
coordinators to pick from and what the forms record of the page), a stale form shown as "someone
changed this case; here is what changed", a form's mistakes shown beside their fields, a
booking's own page and the partner registry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from services.console.api.context import opened, page, wiring
from services.console.domain.coordination import seen_of
from services.console.usecases import casework, coordination
from services.console.usecases.apis import Apis, Changed, ConsoleError, Refused
from services.console.usecases.sessions import Opened


class ChangedMeanwhile(ConsoleError):
    """A form made from an older version of the case: nothing was changed, and the page says
    what differs now (the status, the coordinator, the entries added since)."""

    key = "changed"
    template = "changed.html"

    def __init__(self, status: int, detail: str, **context: object) -> None:
        super().__init__(detail, **context)
        self.status = status


class FormRefused(ConsoleError):
    """A form with mistakes: the case page again, the values kept, each mistake by its field."""

    status = 422
    key = "form_refused"
    template = "case.html"


async def case_context(apis: Apis, token: str, case_id: str) -> dict[str, Any]:
    """What case.html needs: the case, its bookings, the coordinators to suggest, and the
    hidden fields recording what the page showed."""
    (found, bookings), coordinators = await asyncio.gather(
        casework.case_page(apis, token, case_id), coordination.coordinators_seen(apis, token)
    )
    return {
        "case": found,
        "bookings": bookings,
        "plain_transitions": casework.PLAIN_TRANSITIONS,
        "coordinators": coordinators,
        "seen": seen_of(found),
        "problems": {},
        "entered": {},
    }


def _field(api_field: str, fields: Mapping[str, str]) -> str:
    """An API field path ("programmes[0].total", "plan.arrival.airport") as the form's field:
    its last name where the form has a field of that name, the whole path otherwise."""
    last = api_field.replace("]", "").replace("[", ".").rsplit(".", 1)[-1]
    return last if last in fields else api_field


async def form_refused(
    apis: Apis, current: Opened, case_id: str, fields: Mapping[str, str], problems: dict[str, str]
) -> FormRefused:
    context = await case_context(apis, current.token, case_id)
    entered = {k: v for k, v in fields.items() if k not in ("csrf", "version")}
    return FormRefused(
        "; ".join(problems.values()), **{**context, "problems": problems, "entered": entered}
    )


async def guarded(
    request: Request[Any, Any, Any],
    current: Opened,
    case_id: str,
    fields: Mapping[str, str],
    step: Awaitable[None],
) -> None:
    """Take a case step made from the page whose hidden fields are `fields`. A 412 (the version
    is stale), or a 409 while the case is at another version than the form's, becomes the
    "what changed" page; a refusal naming fields becomes the form again with each beside its
    field. Nothing is retried: the API changed nothing."""
    apis = wiring(request).apis
    try:
        await step
    except (Changed, Refused) as exc:
        conflict = isinstance(exc, Changed) or exc.status == 409
        if conflict:
            now, found = await coordination.what_changed(apis, current.token, case_id, fields)
            if isinstance(exc, Changed) or str(now.get("version")) != fields.get("version"):
                raise ChangedMeanwhile(
                    exc.status, exc.detail, case=now, changes=found, version=fields.get("version")
                ) from None
        named = exc.context.get("problems") or []
        if isinstance(named, list) and named:
            problems = {_field(p["field"], fields): p["message"] for p in named}
            raise await form_refused(apis, current, case_id, fields, problems) from None
        raise


class CoordinationPages(Controller):
    include_in_schema = False

    @get("/bookings/{booking_id:uuid}")
    async def booking(self, request: Request[Any, Any, Any], booking_id: FromPath[Any]) -> Template:
        """One booking: its partner, its status history, the offers made for it, and what was
        shared with the partner (the booking's details, nothing medical)."""
        current = await opened(request)
        request.scope.setdefault("state", {})["opened"] = current
        view, partner = await coordination.booking(
            wiring(request).apis, current.token, str(booking_id)
        )
        return page(
            "booking.html",
            current,
            booking=view["booking"],
            timeline=view["timeline"],
            offers=view["offers"],
            partner=partner,
        )

    @get("/partners")
    async def partners(
        self, request: Request[Any, Any, Any], kind: FromQuery[str] = ""
    ) -> Template:
        """The partner registry: kinds, channel (NATS or webhook), active, priority, coverage."""
        current = await opened(request)
        request.scope.setdefault("state", {})["opened"] = current
        if kind and kind not in casework.BOOKING_KINDS:
            raise Refused(f"no booking kind {kind!r}")
        listed, waiting = await coordination.registry(wiring(request).apis, current.token, kind)
        return page(
            "partners.html",
            current,
            partners=listed,
            waiting=waiting,
            kind=kind,
            kinds=casework.BOOKING_KINDS,
        )
