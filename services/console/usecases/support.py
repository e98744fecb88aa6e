"""What support agents do in the console, each a few calls to the support desk's API with the
person's own token: the queue with who is on call, a case with its thread, and acknowledging,
replying and resolving."""

from __future__ import annotations

import asyncio
from typing import Any

from services.console.domain import support
from services.console.usecases.apis import Apis, Changed, Conflict

DESK = "/v1/support/desk/cases"
# The desk lists open cases urgent first up to this many, with no cursor: the console asks for
# the most the API gives and says so when the list is full.
QUEUE_LIMIT = 200


class CaseMoved(Changed):
    """The case is no longer as the page showed it: someone acknowledged, resolved or wrote in
    it meanwhile (the console's check, or the desk's own 409)."""

    status = 409


async def queue(apis: Apis, token: str) -> tuple[list[Any], dict[str, int], list[Any]]:
    """The open cases, each priority's acknowledge target in seconds, and who is on call."""
    cases, policies, on_call = await asyncio.gather(
        apis.call(token, "support", "GET", DESK, params={"limit": str(QUEUE_LIMIT)}),
        apis.call(token, "support", "GET", "/v1/support/policies"),
        apis.call(token, "support", "GET", "/v1/support/on-call"),
    )
    return list(cases.body), support.acknowledge_targets(policies.body), list(on_call.body)


async def case_page(
    apis: Apis, token: str, case_id: str
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, int]]:
    """The case with its timeline and thread; its entry in the desk's list (deadlines and
    breaches) while it is not resolved; the acknowledge targets."""
    view, listed, policies = await asyncio.gather(
        apis.call(token, "support", "GET", f"{DESK}/{case_id}"),
        apis.call(token, "support", "GET", DESK, params={"limit": str(QUEUE_LIMIT)}),
        apis.call(token, "support", "GET", "/v1/support/policies"),
    )
    entry = next((c for c in listed.body if c["id"] == case_id), None)
    return view.body, entry, support.acknowledge_targets(policies.body)


async def act(apis: Apis, token: str, case_id: str, action: str, shown: str) -> None:
    """Acknowledge or resolve the case, unless it changed since the page showed `shown`."""
    await _unchanged(apis, token, case_id, shown)
    try:
        await apis.call(token, "support", "POST", f"{DESK}/{case_id}/{action}")
    except Conflict as exc:
        raise CaseMoved(exc.detail) from None


async def reply(apis: Apis, token: str, case_id: str, message: str) -> None:
    """Messages are only appended: nothing to overwrite, no check needed."""
    await apis.call(
        token, "support", "POST", f"{DESK}/{case_id}/messages", body={"message": message}
    )


async def _unchanged(apis: Apis, token: str, case_id: str, shown: str) -> None:
    # The desk takes no If-Match: a fresh read narrows the window in which an action could land
    # on a case the person has not seen; the desk's 409 covers the state it guards itself.
    current = await apis.call(token, "support", "GET", f"{DESK}/{case_id}")
    now = support.seen(current.body)
    if now != shown:
        status, _, messages = now.partition(":")
        raise CaseMoved(f"the case is {status} with {messages} messages now")
