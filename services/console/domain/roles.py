"""How the console learns a person's roles from the APIs themselves: one read each role's guard
protects. 200 means the role is held (400 for a probe sent without a body, past the guard), 403
that it is not, 401 that the token is not valid."""

from __future__ import annotations

import msgspec


class RoleProbe(msgspec.Struct, frozen=True, kw_only=True):
    role: str
    service: str
    path: str
    method: str = "GET"


# The medical reviewer's role guards no read: its probe is a sign-off with no body, which the
# guard answers (403) before the body is read, and the API refuses as invalid (400) once past
# it. Nothing is ever signed off.
REVIEWER_PROBE_PATH = "/v1/editorial/conditions/-/sign-offs"


PROBES = (
    RoleProbe(role="coordinator", service="inquiries", path="/v1/coordinator/inquiries?limit=1"),
    RoleProbe(role="editor", service="content", path="/v1/editorial/conditions"),
    RoleProbe(role="admin", service="inquiries", path="/admin/dead-letters?limit=1"),
    RoleProbe(role="medical_reviewer", service="content", path=REVIEWER_PROBE_PATH, method="POST"),
    RoleProbe(role="support_agent", service="support", path="/v1/support/on-call"),
)
# Where a person lands after sign-in: the first page one of their roles opens.
HOMES = (
    ("coordinator", "/inbox"),
    ("support_agent", "/support"),
    ("editor", "/editor"),
    # A medical reviewer's token reads no list: anywhere else they would land on a refusal.
    ("medical_reviewer", "/review"),
)


def home(roles: tuple[str, ...]) -> str:
    """The first page the roles open (admins hold every role: the inbox); the inbox for a
    token holding none the console knows, whose refusal then says so."""
    if "admin" in roles:
        return HOMES[0][1]
    return next((path for role, path in HOMES if role in roles), HOMES[0][1])


def roles_from(answers: dict[str, int]) -> tuple[str, ...] | None:
    """The roles held, from each probe's status by role; None when the token is refused."""
    if any(status == 401 for status in answers.values()):
        return None
    return tuple(role for role, status in answers.items() if status in (200, 400))
