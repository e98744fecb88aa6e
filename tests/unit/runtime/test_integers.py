"""Integers from outside text (tokens, If-Match) are ASCII digits within bigint; a weak ETag
never matches If-Match (RFC 9110 §13.1.1)."""

from __future__ import annotations

import pytest

from services.runtime.core.errors import BadRequest, PreconditionFailed
from services.runtime.core.integers import BIGINT_MAX, parse_bigint
from services.runtime.http.preconditions import expected_version


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("42", 42), (str(BIGINT_MAX), BIGINT_MAX)])
def test_ascii_digits_within_bigint_are_read(text: str, value: int) -> None:
    assert parse_bigint(text) == value


@pytest.mark.parametrize(
    "text", [str(BIGINT_MAX + 1), "9" * 40, "²", "٣", "-1", "+1", " 1", "1_0", ""]
)
def test_anything_else_is_not_a_number(text: str) -> None:
    assert parse_bigint(text) is None


def test_a_strong_if_match_names_its_version() -> None:
    assert expected_version('"3"') == 3
    assert expected_version(None) is None


def test_a_weak_if_match_never_matches() -> None:
    with pytest.raises(PreconditionFailed):
        expected_version('W/"3"')


@pytest.mark.parametrize("tag", ['"²"', f'"{BIGINT_MAX + 1}"', '"x"'])
def test_an_if_match_that_names_no_version_is_a_400(tag: str) -> None:
    with pytest.raises(BadRequest):
        expected_version(tag)
