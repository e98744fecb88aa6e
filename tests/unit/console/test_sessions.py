"""The console's session rules: idle and absolute expiry, the CSRF comparison, roles learned
from the APIs' answers, and the two languages' labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.console.domain.labels import LABELS
from services.console.domain.roles import home, with_implied
from services.console.domain.sessions import Session, Timeouts, csrf_matches, holds, is_live

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TIMEOUTS = Timeouts(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


def session(*, created: timedelta, seen: timedelta, roles: tuple[str, ...] = ()) -> Session:
    return Session(
        id_hash=b"x" * 32,
        roles=roles,
        locale="en",
        csrf="the-token",
        created_at=NOW - created,
        last_seen_at=NOW - seen,
    )


def test_a_session_used_recently_is_live() -> None:
    assert is_live(session(created=timedelta(hours=1), seen=timedelta(minutes=5)), TIMEOUTS, NOW)


def test_a_session_idle_past_the_idle_timeout_has_expired() -> None:
    assert not is_live(
        session(created=timedelta(hours=1), seen=timedelta(minutes=30)), TIMEOUTS, NOW
    )


def test_a_session_past_the_absolute_timeout_has_expired_however_busy() -> None:
    assert not is_live(session(created=timedelta(hours=12), seen=timedelta(0)), TIMEOUTS, NOW)


def test_only_the_sessions_own_csrf_token_matches() -> None:
    live = session(created=timedelta(0), seen=timedelta(0))
    assert csrf_matches(live, "the-token")
    assert not csrf_matches(live, "the-token2")
    assert not csrf_matches(live, "")
    assert not csrf_matches(live, None)


def test_a_sessions_roles_are_those_held_and_those_they_imply() -> None:
    assert with_implied(["editor", "medical_reviewer"]) == ("editor", "medical_reviewer")
    assert with_implied(["lead_coordinator"]) == ("lead_coordinator", "coordinator")
    assert with_implied(["coordinator", "lead_coordinator"]) == ("coordinator", "lead_coordinator")


def test_an_admin_holds_every_role_for_the_consoles_navigation() -> None:
    admin = session(created=timedelta(0), seen=timedelta(0), roles=("admin",))
    assert holds(admin, "coordinator")
    assert not holds(session(created=timedelta(0), seen=timedelta(0)), "admin")


def test_english_and_german_have_the_same_labels() -> None:
    assert LABELS["en"].keys() == LABELS["de"].keys()


def test_a_medical_reviewer_starts_on_the_review_page() -> None:
    assert home(("medical_reviewer",)) == "/review"
    assert home(("editor", "medical_reviewer")) == "/editor"
