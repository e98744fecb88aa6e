"""What coordinators do in the console, each one or two calls to inquiries and logistics with
the person's own token: the inbox, the case page with its bookings, and the case's actions (each
naming the version the page showed, so a concurrent change is a 412, never overwritten)."""

from __future__ import annotations

from typing import Any

from services.console.usecases.apis import Apis

CASES = "/v1/coordinator/inquiries"
# The states a plain transition reaches; offer_sent, accepted, confirmed and discharged have
# forms of their own (they carry what the step needs), expired is the expiry job's.
PLAIN_TRANSITIONS = (
    "in_review",
    "records_requested",
    "in_treatment",
    "completed",
    "declined",
    "cancelled",
)


async def inbox(
    apis: Apis, token: str, *, status: str, unassigned: bool, cursor: str
) -> dict[str, Any]:
    params = {"status": status, "cursor": cursor, "limit": "25"}
    if unassigned:
        params["unassigned"] = "true"
    answer = await apis.call(token, "inquiries", "GET", CASES, params=params)
    page: dict[str, Any] = answer.body
    return page


async def case_page(apis: Apis, token: str, case_id: str) -> tuple[dict[str, Any], list[Any]]:
    """The case in full and its bookings (logistics: partner and status of each)."""
    case = await apis.call(token, "inquiries", "GET", f"{CASES}/{case_id}")
    bookings = await apis.call(
        token, "logistics", "GET", "/v1/bookings", params={"inquiry_id": case_id}
    )
    return case.body, list(bookings.body.get("items", []))


async def assign(apis: Apis, token: str, case_id: str, version: int, coordinator: str) -> None:
    await apis.call(
        token,
        "inquiries",
        "PUT",
        f"{CASES}/{case_id}/coordinator",
        body={"coordinator": coordinator or None},
        if_match=version,
    )


async def transition(
    apis: Apis, token: str, case_id: str, version: int, to: str, reason: str
) -> None:
    body: dict[str, Any] = {"to": to}
    if reason:
        body["reason"] = reason
    await apis.call(
        token, "inquiries", "POST", f"{CASES}/{case_id}/transitions", body=body, if_match=version
    )


async def accept_offer(
    apis: Apis, token: str, case_id: str, version: int, offer_version: int
) -> None:
    await apis.call(
        token,
        "inquiries",
        "POST",
        f"{CASES}/{case_id}/offers/{offer_version}/accept",
        if_match=version,
    )


async def add_note(apis: Apis, token: str, case_id: str, text: str) -> None:
    """Notes are only ever appended: no version needed."""
    await apis.call(token, "inquiries", "POST", f"{CASES}/{case_id}/notes", body={"text": text})


BOOKING_STATUSES = (
    "unassigned",
    "failed",
    "requested",
    "offered",
    "confirmed",
    "in_progress",
    "completed",
    "cancelled",
)
BOOKING_KINDS = ("transfer", "interpreter", "shipment")


async def bookings(
    apis: Apis, token: str, *, status: str, kind: str, cursor: str
) -> dict[str, Any]:
    """Logistics' bookings filtered by status and kind, a keyset page."""
    params = {"status": status, "kind": kind, "cursor": cursor, "limit": "50"}
    answer = await apis.call(token, "logistics", "GET", "/v1/bookings", params=params)
    page: dict[str, Any] = answer.body
    return page


async def dead_letters(apis: Apis, token: str) -> list[tuple[str, dict[str, Any]]]:
    """Every service's dead letters not yet replayed, each with its service."""
    found: list[tuple[str, dict[str, Any]]] = []
    for service in sorted(apis.urls):
        answer = await apis.call(token, service, "GET", "/admin/dead-letters")
        found.extend((service, letter) for letter in answer.body)
    return found


async def replay(apis: Apis, token: str, service: str, dead_letter_id: int) -> str:
    """The replay's outcome as the service reports it (handled, or dead-lettered again)."""
    answer = await apis.call(token, service, "POST", f"/admin/dead-letters/{dead_letter_id}/replay")
    return str(answer.body.get("outcome", ""))


async def send(
    apis: Apis, token: str, case_id: str, version: int, step: str, body: dict[str, Any]
) -> None:
    """Send the offer, the confirmation or the discharge (`step`: offers, confirmation,
    discharge), built from the form by the domain."""
    await apis.call(
        token, "inquiries", "POST", f"{CASES}/{case_id}/{step}", body=body, if_match=version
    )
