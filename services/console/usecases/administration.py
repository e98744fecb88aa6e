"""What admins do in the console besides replaying dead letters, each one call with their own
token: staff tokens and API keys (the access routes every service serves), the audit log of a
service, and the retention runs of inquiries. A new secret is passed back to the page once and
kept nowhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.console.domain.access import ACCESS_SERVICE, token_state
from services.console.usecases.apis import Apis

TOKENS = "/admin/staff-tokens"
KEYS = "/admin/api-keys"
AUDIT_PAGE = 50


async def staff_tokens(apis: Apis, token: str) -> list[dict[str, Any]]:
    """Every token, newest first, with its state; never a secret (the API has none to give)."""
    answer = await apis.call(token, ACCESS_SERVICE, "GET", TOKENS)
    now = datetime.now(UTC)
    listed = [{**t, "state": token_state(t, now)} for t in answer.body]
    return sorted(listed, key=lambda t: str(t["created_at"]), reverse=True)


async def issue_token(apis: Apis, token: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await apis.call(token, ACCESS_SERVICE, "POST", TOKENS, body=body)
    issued: dict[str, Any] = answer.body
    return issued


async def rotate_token(
    apis: Apis, token: str, token_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    answer = await apis.call(
        token, ACCESS_SERVICE, "POST", f"{TOKENS}/{token_id}/rotate", body=body
    )
    rotated: dict[str, Any] = answer.body
    return rotated


async def revoke_token(apis: Apis, token: str, token_id: str) -> None:
    await apis.call(token, ACCESS_SERVICE, "POST", f"{TOKENS}/{token_id}/revoke")


async def api_keys(apis: Apis, token: str) -> list[dict[str, Any]]:
    answer = await apis.call(token, ACCESS_SERVICE, "GET", KEYS)
    keys: list[dict[str, Any]] = answer.body
    return keys


async def issue_key(apis: Apis, token: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await apis.call(token, ACCESS_SERVICE, "POST", KEYS, body=body)
    issued: dict[str, Any] = answer.body
    return issued


async def revoke_key(apis: Apis, token: str, key_id: str) -> None:
    await apis.call(token, ACCESS_SERVICE, "POST", f"{KEYS}/{key_id}/revoke")


async def audit_log(
    apis: Apis, token: str, service: str, filters: dict[str, str], before_id: str
) -> tuple[list[dict[str, Any]], str]:
    """One page of a service's audit log, newest first, and the before_id of the next page
    ("" when this one is the last: it came back short)."""
    params = {**filters, "before_id": before_id, "limit": str(AUDIT_PAGE)}
    answer = await apis.call(token, service, "GET", "/admin/audit", params=params)
    entries: list[dict[str, Any]] = answer.body
    following = str(entries[-1]["id"]) if len(entries) == AUDIT_PAGE else ""
    return entries, following


async def retention(apis: Apis, token: str) -> dict[str, Any]:
    """Inquiries' retention periods per data class and its latest runs."""
    answer = await apis.call(token, "inquiries", "GET", "/v1/retention")
    overview: dict[str, Any] = answer.body
    return overview


async def run_retention(apis: Apis, token: str, *, dry_run: bool) -> dict[str, Any]:
    """A retention run now (or a dry run that only counts): what it purged per class."""
    answer = await apis.call(
        token, "inquiries", "POST", "/v1/retention/runs", body={"dry_run": dry_run}
    )
    ran: dict[str, Any] = answer.body
    return ran
