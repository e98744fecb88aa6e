"""Form-style decoding: every problem of a body at once, each naming its field."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from services.runtime.core.errors import BadRequest
from services.runtime.http.validation import decode_all_problems


class Contact(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+$")]
    phone: str | None = None


class Form(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    age: Annotated[int, msgspec.Meta(ge=0)]
    contact: Contact
    tags: list[str] = []


def test_a_valid_body_decodes() -> None:
    form = decode_all_problems(b'{"name": "Ada", "age": 36, "contact": {"email": "a@b.c"}}', Form)

    assert form == Form(name="Ada", age=36, contact=Contact(email="a@b.c"))


def test_every_problem_is_reported_with_its_field() -> None:
    body = b'{"name": "", "age": -1, "contact": {"email": "nope", "fax": 1}, "tags": [1], "x": 0}'

    with pytest.raises(BadRequest) as refused:
        decode_all_problems(body, Form)

    assert {(p.field, p.message) for p in refused.value.problems} == {
        ("x", "is not a known field"),
        ("name", "Expected `str` of length >= 1"),
        ("age", "Expected `int` >= 0"),
        ("contact.fax", "is not a known field"),
        ("contact.email", "Expected `str` matching regex '^[^@\\\\s]+@[^@\\\\s]+$'"),
        ("tags[0]", "Expected `str`, got `int`"),
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"{", "body"), (b"[1]", "body"), (b'{"age": 1, "contact": {"email": "a@b"}}', "name")],
)
def test_malformed_or_incomplete_bodies_are_refused(body: bytes, field: str) -> None:
    with pytest.raises(BadRequest) as refused:
        decode_all_problems(body, Form)

    assert refused.value.problems[0].field == field
