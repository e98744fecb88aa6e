"""What a JSON body must be before it is decoded: a JSON content type, bounded nesting, each key
once, no control characters; invalid JSON is left to the decoder, which names the error."""

from __future__ import annotations

import pytest

from services.runtime.core.errors import BadRequest, UnsupportedMediaType
from services.runtime.http.json_input import MAX_DEPTH, check_json, require_json_type


def _refused(body: bytes) -> dict[str, str]:
    with pytest.raises(BadRequest) as refused:
        check_json(body)
    return {p.field: p.message for p in refused.value.problems}


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000 + b"]" * 1000,
        b'{"a":' * 100 + b"1" + b"}" * 100,
        b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
        b"[" * 5000,  # unbalanced: refused before a parser recurses into it
    ],
)
def test_a_body_nested_too_deep_is_refused_naming_body(body: bytes) -> None:
    assert "nested" in _refused(body)["body"]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * MAX_DEPTH + b"]" * MAX_DEPTH,
        b'{"s": "' + b"[" * 100 + b'"}',  # brackets in a string are text
        b'{"s": "\\"' + b"[" * 100 + b'\\\\"}',  # escaped quotes and backslashes
        b'{"name": "x\\\\u0000y", "n": "a\\tb\\nc\\r"}',  # an escaped backslash; tab, LF, CR
        b"{not json",  # the decoder names the error
        b"",
    ],
)
def test_ordinary_and_invalid_bodies_pass_to_the_decoder(body: bytes) -> None:
    check_json(body)


def test_a_repeated_key_is_refused_naming_it() -> None:
    assert "more than once" in _refused(b'{"a": 1, "b": {"c": 1, "c": 2}}')["c"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"name": "x\\u0000y"}', "name"),
        (b'{"d": ["a", "\\u001b"]}', "d"),
        (b'{"d": "\\b"}', "d"),
        (b'{"d": "\\u007F"}', "d"),
        (b'"\\u0000"', "body"),
    ],
)
def test_a_control_character_is_refused_naming_its_key(body: bytes, field: str) -> None:
    assert "control" in _refused(body)[field]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/merge-patch+json",
    ],
)
def test_json_media_types_are_taken(content_type: str) -> None:
    require_json_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain", "application/x-www-form-urlencoded", "application/jsonp"],
)
def test_other_media_types_are_a_415(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        require_json_type(content_type)
