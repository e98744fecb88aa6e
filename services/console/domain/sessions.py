"""A staff session's life: when it has expired (idle or absolute), and whether a form's CSRF
token is the session's. Pure: given `now`."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

import msgspec


class Session(msgspec.Struct, frozen=True, kw_only=True):
    id_hash: bytes
    roles: tuple[str, ...]
    locale: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime


class Timeouts(msgspec.Struct, frozen=True, kw_only=True):
    idle: timedelta
    absolute: timedelta


def is_live(session: Session, timeouts: Timeouts, now: datetime) -> bool:
    """Live while used within the idle timeout and younger than the absolute one."""
    return (
        now - session.last_seen_at < timeouts.idle and now - session.created_at < timeouts.absolute
    )


def csrf_matches(session: Session, offered: str | None) -> bool:
    """Constant-time: a guess learns nothing from how long the refusal took."""
    return bool(offered) and hmac.compare_digest(session.csrf.encode(), (offered or "").encode())


def holds(session: Session, role: str) -> bool:
    """Whether the APIs said the person holds `role` at sign-in (admins hold every role). Only
    for what the console shows; each action is decided by the API again."""
    return role in session.roles or "admin" in session.roles
