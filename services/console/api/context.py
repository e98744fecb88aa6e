"""What every page needs: the app's sessions and APIs, the request's live session, the cookie,
the form checked against the session's CSRF token, and the rendering of a page in the person's
language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response
from litestar.response import Redirect, Template

from services.console.domain.labels import LANGUAGES, labels_for
from services.console.domain.sessions import csrf_matches, holds
from services.console.usecases.apis import (
    Apis,
    ConsoleError,
    ForgedForm,
    Refused,
    SignInNeeded,
)
from services.console.usecases.sessions import Opened, Sessions

COOKIE = "console_session"


@dataclass(frozen=True)
class Wiring:
    sessions: Sessions
    apis: Apis
    secure_cookies: bool


def wiring(request: Request[Any, Any, Any]) -> Wiring:
    found: Wiring = request.app.state.console
    return found


async def opened(request: Request[Any, Any, Any]) -> Opened:
    return await wiring(request).sessions.open(request.cookies.get(COOKIE), datetime.now(UTC))


def remember(request: Request[Any, Any, Any], current: Opened) -> None:
    """Keep the request's session where the refusal handler finds it, to render the page
    chrome for the person whose request failed."""
    request.scope.setdefault("state", {})["opened"] = current


async def opened_remembered(request: Request[Any, Any, Any]) -> Opened:
    """The live session, kept in the request's state so that the refusal handler renders the
    page chrome for the person whose request failed."""
    current = await opened(request)
    remember(request, current)
    return current


async def checked_form(request: Request[Any, Any, Any], current: Opened) -> dict[str, str]:
    """The form's fields; ForgedForm unless it carries the session's CSRF token."""
    form = await request.form()
    fields = {key: str(value) for key, value in form.items()}
    if not csrf_matches(current.session, fields.get("csrf")):
        raise ForgedForm
    return fields


def whole(fields: dict[str, str], name: str) -> int:
    """A whole-number field (a version, an id); Refused otherwise."""
    try:
        return int(fields.get(name, ""))
    except ValueError:
        raise Refused(f"{name} must be a whole number") from None


def page(name: str, current: Opened | None, status_code: int = 200, **context: Any) -> Template:
    locale = current.session.locale if current else "en"
    return Template(
        template_name=name,
        context={
            "t": labels_for(locale),
            "locale": locale,
            "languages": LANGUAGES,
            "session": current.session if current else None,
            "may": (lambda role: holds(current.session, role)) if current else (lambda _: False),
            **context,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def set_session_cookie(
    response: Response[Any], request: Request[Any, Any, Any], value: str
) -> None:
    response.set_cookie(
        COOKIE,
        value,
        path="/",
        httponly=True,
        samesite="strict",
        secure=wiring(request).secure_cookies,
    )


def clear_session_cookie(response: Response[Any], request: Request[Any, Any, Any]) -> None:
    response.delete_cookie(COOKIE, path="/")
    del request


def refusal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A ConsoleError as the person sees it: sign in again, or the reason on a page of its own
    with the status the API gave."""
    if not isinstance(exc, ConsoleError):
        raise exc
    # A partial update (htmx) would follow a redirect and swap a fragment of the sign-in page,
    # or drop an error page: it is told to navigate, or to show the refusal in place of <main>.
    partial = request.headers.get("hx-request") == "true"
    if isinstance(exc, SignInNeeded):
        redirect: Response[Any] = Redirect("/sign-in?expired=1", status_code=303)
        if partial:
            redirect = Response(b"", headers={"HX-Redirect": "/sign-in?expired=1"})
        clear_session_cookie(redirect, request)
        return redirect
    current: Opened | None = request.scope.get("state", {}).get("opened")
    back = request.headers.get("referer", "")
    shown = page(
        exc.template, current, exc.status, key=exc.key, detail=exc.detail, back=back, **exc.context
    )
    if partial:
        shown.headers.update(
            {"HX-Retarget": "main", "HX-Reselect": "main", "HX-Reswap": "outerHTML"}
        )
    return shown
