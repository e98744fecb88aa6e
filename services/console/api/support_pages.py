"""The support agent's pages: the desk's queue with who is on call, a case with its thread, and
its actions (acknowledge, reply, resolve). The support API decides who may; its refusals are
shown as they come."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from services.console.api.context import checked_form, opened, page, remember, wiring
from services.console.domain import support
from services.console.domain.labels import labels_for
from services.console.usecases import support as desk
from services.console.usecases.apis import Refused

ACTIONS = ("acknowledge", "resolve")


class SupportPages(Controller):
    path = "/support"
    include_in_schema = False

    @get("/")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        priority: FromQuery[str] = "",
        status: FromQuery[str] = "",
    ) -> Template:
        """Open cases, overdue first; the filters are the console's over the desk's list (the
        API takes none)."""
        current = await opened(request)
        remember(request, current)
        if priority and priority not in support.PRIORITIES:
            raise Refused(f"no priority {priority!r}")
        if status and status not in support.STATUSES:
            raise Refused(f"no open status {status!r}")
        cases, targets, on_call = await desk.queue(wiring(request).apis, current.token)
        words = labels_for(current.session.locale)
        rows = support.queue(cases, targets, datetime.now(UTC), priority=priority, status=status)
        return page(
            "support_queue.html",
            current,
            rows=[(r.case, r.due, support.time_left(r.due, words)) for r in rows],
            full=len(cases) >= desk.QUEUE_LIMIT,
            on_call=support.on_call_people(on_call),
            priority=priority,
            status=status,
            priorities=support.PRIORITIES,
            statuses=support.STATUSES,
        )

    @get("/cases/{case_id:uuid}")
    async def case(self, request: Request[Any, Any, Any], case_id: FromPath[Any]) -> Template:
        current = await opened(request)
        remember(request, current)
        view, entry, targets = await desk.case_page(
            wiring(request).apis, current.token, str(case_id)
        )
        due = None if entry is None else support.due(entry, targets, datetime.now(UTC))
        words = labels_for(current.session.locale)
        return page(
            "support_case.html",
            current,
            case=view,
            entry=entry,
            due=due,
            time_left=None if due is None else support.time_left(due, words),
            escalation=support.escalation(view["timeline"]),
            seen=support.seen(view),
        )

    @post("/cases/{case_id:uuid}/messages")
    async def reply(self, request: Request[Any, Any, Any], case_id: FromPath[Any]) -> Redirect:
        current = await opened(request)
        remember(request, current)
        fields = await checked_form(request, current)
        message = fields.get("message", "").strip()
        if not message:
            raise Refused("message is required")
        await desk.reply(wiring(request).apis, current.token, str(case_id), message)
        return Redirect(f"/support/cases/{case_id}", status_code=303)

    @post("/cases/{case_id:uuid}/{action:str}")
    async def act(
        self, request: Request[Any, Any, Any], case_id: FromPath[Any], action: FromPath[str]
    ) -> Redirect:
        """Acknowledge or resolve, unless the case changed since the page showed it."""
        current = await opened(request)
        remember(request, current)
        fields = await checked_form(request, current)
        if action not in ACTIONS:
            raise Refused(f"no such action: {action}")
        await desk.act(
            wiring(request).apis, current.token, str(case_id), action, fields.get("seen", "")
        )
        return Redirect(f"/support/cases/{case_id}", status_code=303)
