"""The other services' HTTP APIs, called with the signed-in person's own staff token (never one
of greater power). Their refusals become the console's errors, shown plainly on the page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import msgspec


class ApiAnswer(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    body: Any


class ConsoleError(Exception):
    """A refusal to show the person: `key` names the message in the labels."""

    status = 400
    key = "refused"
    # The page that shows the refusal, and what it needs beyond the key and detail.
    template = "error.html"

    def __init__(self, detail: str = "", **context: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class SignInNeeded(ConsoleError):
    """No live session, or the API no longer accepts the session's token."""

    status = 401
    key = "expired"


class NotAllowed(ConsoleError):
    status = 403
    key = "not_allowed"


class ForgedForm(ConsoleError):
    status = 403
    key = "csrf"


class Changed(ConsoleError):
    """412 from the API: the case changed since the page was read."""

    status = 412
    key = "changed"


class Refused(ConsoleError):
    """Any other 4xx: the API's own detail is shown."""


class Conflict(Refused):
    """409 from the API: the step does not fit the case as it now is (another may have moved
    it meanwhile)."""

    status = 409


class Apis:
    def __init__(self, client: httpx.AsyncClient, urls: Mapping[str, str]) -> None:
        self.client = client
        self.urls = dict(urls)

    async def roles_of(self, token: str) -> tuple[str, ...] | None:
        """The roles the token holds, as the APIs know them (inquiries' `GET /staff/me`: staff
        tokens are shared by every service); None when the token is refused."""
        try:
            answer = await self.call(token, "inquiries", "GET", "/staff/me")
        except SignInNeeded:
            return None
        return tuple(answer.body["roles"])

    async def call(
        self,
        token: str,
        service: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        if_match: int | None = None,
    ) -> ApiAnswer:
        headers = _auth(token)
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        response = await self.client.request(
            method,
            self.urls[service] + path,
            params={k: v for k, v in (params or {}).items() if v},
            headers=headers,
            content=None if body is None else msgspec.json.encode(body),
        )
        if response.status_code == 401:
            raise SignInNeeded(_detail(response))
        if response.status_code == 403:
            raise NotAllowed(_detail(response))
        if response.status_code == 412:
            raise Changed(_detail(response))
        if response.status_code == 409:
            raise Conflict(_detail(response))
        if response.status_code >= 400:
            raise Refused(_detail(response), problems=_problems(response))
        payload = response.json() if response.content else None
        return ApiAnswer(status=response.status_code, body=payload)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _problems(response: httpx.Response) -> list[dict[str, str]]:
    """The API's problems by field (`errors` of its problem document), when it names any."""
    try:
        problem = response.json()
    except ValueError:
        return []
    found = problem.get("errors") if isinstance(problem, dict) else None
    return [
        {"field": str(e.get("field", "")), "message": str(e.get("message", ""))}
        for e in (found if isinstance(found, list) else [])
        if isinstance(e, dict)
    ]


def _detail(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        return response.text[:300]
    if not isinstance(problem, dict):
        return ""
    detail = str(problem.get("detail") or problem.get("title") or "")
    # A malformed request's detail only says "see errors": the person needs the fields named.
    errors = problem.get("errors")
    if isinstance(errors, list) and errors:
        named = "; ".join(
            f"{e.get('field')}: {e.get('message')}" for e in errors if isinstance(e, dict)
        )
        return f"{detail} ({named})" if named and named not in detail else detail
    return detail
