"""The admin pages' forms turned into the access API's requests (staff tokens, API keys), and
a token's state as the list shows it. Pure. The console checks only what a person can fix by
looking at the form (a name, at least one role, whole numbers); the API checks everything
again and its refusal (an unknown role, a bad origin) is shown as it gives it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.console.domain.forms import FormProblem

# The roles offered as checkboxes, as the API names them; the API is the authority on them.
ROLES = ("admin", "editor", "coordinator", "lead_coordinator", "medical_reviewer", "support_agent")
ROLE_FIELD = "role_"
KEY_KINDS = ("publishable", "secret")
# The audit log's services: each keeps its own log.
AUDITED = ("content", "inquiries", "logistics", "support", "notifications")
# Where the console manages tokens and keys: every service serves the same shared access
# routes, so one is enough (inquiries, which the console also asks for the admin role).
ACCESS_SERVICE = "inquiries"


def _whole(fields: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    text = fields.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise FormProblem(f"{name} must be a whole number") from None


def token_request(fields: Mapping[str, str]) -> dict[str, Any]:
    """The person, every ticked role (a field role_<name>), the lifetime in days if given."""
    person = fields.get("person", "").strip()
    if not person:
        raise FormProblem("person is required")
    roles = [name.removeprefix(ROLE_FIELD) for name, value in fields.items()
             if name.startswith(ROLE_FIELD) and value == "on"]  # fmt: skip
    if not roles:
        raise FormProblem("roles: choose at least one role")
    body: dict[str, Any] = {"person": person, "roles": roles}
    days = _whole(fields, "ttl_days")
    if days is not None:
        body["ttl_days"] = days
    return body


def rotation_request(fields: Mapping[str, str]) -> dict[str, Any]:
    return {"grace_hours": _whole(fields, "grace_hours", 24)}


def key_request(fields: Mapping[str, str]) -> dict[str, Any]:
    """A consumer's key: origins one a line or separated by spaces; the rest as typed."""
    name = fields.get("name", "").strip()
    if not name:
        raise FormProblem("name is required")
    body: dict[str, Any] = {
        "name": name,
        "kind": fields.get("kind", ""),
        "origins": fields.get("origins", "").split(),
        "rate_per_minute": _whole(fields, "rate_per_minute", 600),
    }
    site_url = fields.get("site_url_template", "").strip()
    if site_url:
        body["site_url_template"] = site_url
    return body


def token_state(token: Mapping[str, Any], now: datetime) -> str:
    """revoked, expired, rotated (its replacement issued, the old one in its grace) or active."""
    if token.get("revoked_at"):
        return "revoked"
    if datetime.fromisoformat(str(token["expires_at"])) <= now:
        return "expired"
    return "rotated" if token.get("replaced_by") else "active"
