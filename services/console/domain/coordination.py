"""Coordination, pure: the inbox's named views and the API filters each one is, and what changed
in a case between the version a form was made from and the version the API now holds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec

# How far ahead "offers expiring" looks.
EXPIRING_WITHIN = timedelta(days=7)


class InboxView(msgspec.Struct, frozen=True, kw_only=True):
    """A named inbox view: the inquiries API's list filters it stands for."""

    name: str
    params: dict[str, str]


# The views a coordinator works from, in the order of the tabs. "Bookings unassigned" is a tab
# too, but logistics' list (/bookings?status=unassigned), not a view of cases.
VIEWS = ("new", "mine", "waiting", "expiring")


def inbox_view(name: str, now: datetime, before: str = "") -> InboxView | None:
    """The view `name`, or None when there is none. `before` keeps "expiring"'s horizon fixed
    across its pages (the first page's now + EXPIRING_WITHIN, carried in the URL)."""
    if name == "new":
        return InboxView(name=name, params={"status": "submitted", "unassigned": "true"})
    if name == "mine":
        return InboxView(name=name, params={"mine": "true"})
    if name == "waiting":
        # The case waits for the patient's records (a review asked for them).
        return InboxView(name=name, params={"status": "records_requested"})
    if name == "expiring":
        horizon = before or (now + EXPIRING_WITHIN).isoformat(timespec="seconds")
        return InboxView(
            name=name, params={"status": "offer_sent", "offer_expires_before": horizon}
        )
    return None


# What a case form records of the page it was made from (hidden fields "seen_*"), so a refusal
# for a stale version can say what changed since.
SEEN = ("status", "coordinator", "offers", "timeline", "notes")


def seen_of(case: Mapping[str, Any]) -> dict[str, str]:
    """The hidden fields a form carries: the status and coordinator as shown, and how many
    offers, timeline entries and notes the page listed."""
    return {
        "seen_status": str(case.get("status") or ""),
        "seen_coordinator": str(case.get("coordinator") or ""),
        "seen_offers": str(len(case.get("offers") or [])),
        "seen_timeline": str(len(case.get("timeline") or [])),
        "seen_notes": str(len(case.get("notes") or [])),
    }


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One thing that differs: a field with its value then and now, or entries added since."""

    what: str
    before: str = ""
    after: str = ""
    added: list[str] = msgspec.field(default_factory=list)


def _count(fields: Mapping[str, str], name: str) -> int | None:
    """How many entries the page listed; None when the form does not say (nothing to tell)."""
    try:
        return max(int(fields.get(name, "")), 0)
    except ValueError:
        return None


def _entry(e: Mapping[str, Any]) -> str:
    detail = e.get("detail") or {}
    words = [
        str(e.get("at", ""))[:19].replace("T", " "),
        str(e.get("kind", "")),
        str(detail.get("to") or detail.get("to_status") or ""),
        str(detail.get("coordinator") or detail.get("by") or ""),
    ]
    return " ".join(w for w in words if w)


def changes(seen: Mapping[str, str], current: Mapping[str, Any]) -> list[Change]:
    """What differs between the page a form was made from (`seen`, its hidden fields) and the
    case as it is now; the entries added since are those past the counts the page listed."""
    found: list[Change] = []
    now = seen_of(current)
    for name in ("status", "coordinator"):
        key = f"seen_{name}"
        if key in seen and seen[key] != now[key]:
            found.append(Change(what=name, before=seen[key], after=now[key]))
    entries: list[tuple[str, list[str]]] = [
        ("offers", [f"{o.get('version')}: {o.get('state')}" for o in current.get("offers") or []]),
        ("timeline", [_entry(e) for e in current.get("timeline") or []]),
        ("notes", [f"{n.get('author')}: {n.get('text')}" for n in current.get("notes") or []]),
    ]
    for name, listed in entries:
        shown = _count(seen, f"seen_{name}")
        if shown is not None and listed[shown:]:
            found.append(Change(what=name, added=listed[shown:]))
    return found
