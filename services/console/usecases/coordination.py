"""Coordination in the console, each a call or two to inquiries and logistics with the person's
own token: the inbox's named views, the coordinators to pick an assignee from, what changed in a
case a stale form was made from, a booking with its partner, and the partner registry."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from services.console.domain.coordination import Change, InboxView, changes
from services.console.usecases.apis import Apis, NotAllowed
from services.console.usecases.casework import CASES

PAGE = "25"  # the inbox's page size, as the free filters' pages
# One page of the list, as many as the API gives, to learn the names coordinators go by.
SEEN_COORDINATORS = "100"


async def cases_in_view(apis: Apis, token: str, view: InboxView, cursor: str) -> dict[str, Any]:
    """One keyset page of the cases the view stands for."""
    answer = await apis.call(
        token, "inquiries", "GET", CASES, params={**view.params, "cursor": cursor, "limit": PAGE}
    )
    page: dict[str, Any] = answer.body
    return page


async def coordinators_seen(apis: Apis, token: str) -> list[str]:
    """The coordinators named on the cases the person may see (newest first, one page): the
    inquiries API has no staff directory, so these are the names to suggest. A coordinator sees
    only their own cases and the queue: their own name, at most; a lead sees everyone's."""
    answer = await apis.call(token, "inquiries", "GET", CASES, params={"limit": SEEN_COORDINATORS})
    return sorted({c["coordinator"] for c in answer.body.get("items", []) if c.get("coordinator")})


async def what_changed(
    apis: Apis, token: str, case_id: str, seen: Mapping[str, str]
) -> tuple[dict[str, Any], list[Change]]:
    """The case as it is now, and what differs from the page the form was made from."""
    answer = await apis.call(token, "inquiries", "GET", f"{CASES}/{case_id}")
    current: dict[str, Any] = answer.body
    return current, changes(seen, current)


async def booking(
    apis: Apis, token: str, booking_id: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The booking with its timeline and offers, and its partner from the registry (None when
    it has none yet, or the registry is not the person's to read)."""
    answer = await apis.call(token, "logistics", "GET", f"/v1/bookings/{booking_id}")
    view: dict[str, Any] = answer.body
    partner_id = view["booking"].get("partner_id")
    if not partner_id:
        return view, None
    try:
        found = await apis.call(token, "logistics", "GET", f"/v1/partners/{partner_id}")
    except NotAllowed:
        return view, None
    partner: dict[str, Any] = found.body
    return view, partner


async def registry(apis: Apis, token: str, kind: str) -> tuple[list[dict[str, Any]], int]:
    """The partner registry (of one kind, or all), highest priority first, and how many
    bookings wait unassigned for a partner the registry lacks (up to one page of 100)."""
    listed, waiting = await asyncio.gather(
        apis.call(token, "logistics", "GET", "/v1/partners", params={"kind": kind}),
        apis.call(
            token,
            "logistics",
            "GET",
            "/v1/bookings",
            params={"status": "unassigned", "limit": "100"},
        ),
    )
    return list(listed.body), len(waiting.body.get("items", []))
