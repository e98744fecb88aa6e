"""What a person may see in the console: the roles the APIs say their token holds
(`GET /staff/me`, one read at sign-in), with the roles those imply (a lead coordinator is a
coordinator too), and where each role lands."""

from __future__ import annotations

from collections.abc import Iterable

from services.runtime.access.staff import IMPLIES


def with_implied(roles: Iterable[str]) -> tuple[str, ...]:
    """The roles held and those they imply, in the order given."""
    held = list(dict.fromkeys(roles))
    for role in list(held):
        held += sorted(IMPLIES.get(role, frozenset()) - set(held))
    return tuple(held)


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
