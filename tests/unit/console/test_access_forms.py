"""The admin pages' forms as the access API's requests, and a token's state. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.console.domain.access import key_request, rotation_request, token_request, token_state
from services.console.domain.forms import FormProblem

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_a_token_form_sends_the_person_every_ticked_role_and_the_lifetime() -> None:
    fields = {"csrf": "x", "person": " Anna ", "role_editor": "on", "role_admin": "on"}
    assert token_request(fields | {"ttl_days": "7"}) == {
        "person": "Anna",
        "roles": ["editor", "admin"],
        "ttl_days": 7,
    }
    assert "ttl_days" not in token_request(fields)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"person": "Anna"}, "at least one role"),
        ({"person": " ", "role_editor": "on"}, "person is required"),
        ({"person": "Anna", "role_editor": "on", "ttl_days": "soon"}, "whole number"),
    ],
)
def test_a_token_form_the_person_can_fix_is_refused_before_sending(
    fields: dict[str, str], problem: str
) -> None:
    with pytest.raises(FormProblem, match=problem):
        token_request(fields)


def test_a_rotation_keeps_24_hours_unless_told_otherwise() -> None:
    assert rotation_request({}) == {"grace_hours": 24}
    assert rotation_request({"grace_hours": "0"}) == {"grace_hours": 0}


def test_a_key_form_splits_the_origins_and_leaves_their_check_to_the_api() -> None:
    fields = {
        "name": "heart-finder",
        "kind": "publishable",
        "origins": "https://a.example\n https://b.example ",
        "rate_per_minute": "",
        "site_url_template": "",
    }
    assert key_request(fields) == {
        "name": "heart-finder",
        "kind": "publishable",
        "origins": ["https://a.example", "https://b.example"],
        "rate_per_minute": 600,
    }
    with pytest.raises(FormProblem, match="name is required"):
        key_request({"kind": "secret"})


def test_a_tokens_state() -> None:
    later, earlier = "2026-12-06T00:00:00Z", "2026-12-04T00:00:00Z"
    assert token_state({"expires_at": later}, NOW) == "active"
    assert token_state({"expires_at": later, "replaced_by": "id"}, NOW) == "rotated"
    assert token_state({"expires_at": earlier, "replaced_by": "id"}, NOW) == "expired"
    assert token_state({"expires_at": later, "revoked_at": earlier}, NOW) == "revoked"
