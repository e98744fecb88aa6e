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


class Lenient(msgspec.Struct):
    """Drops unknown fields when decoded on its own."""

    email: str


class Profile(msgspec.Struct, forbid_unknown_fields=True):
    contact: Lenient
    previous: list[Lenient] = []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"contact": {"email": "a@b.c", "fax": 1}}', "contact.fax"),
        (b'{"contact": {"email": "a@b.c"}, "x": 1}', "x"),
    ],
)
def test_an_unknown_field_is_named_even_where_its_struct_would_drop_it(
    body: bytes, field: str
) -> None:
    # One pass over the body would drop `fax`: a body holding a lenient Struct is taken apart.
    with pytest.raises(BadRequest) as refused:
        decode_all_problems(body, Profile)

    assert [(p.field, p.message) for p in refused.value.problems] == [
        (field, "is not a known field")
    ]


def test_a_valid_body_holding_lenient_structs_decodes() -> None:
    body = b'{"contact": {"email": "a@b.c"}, "previous": [{"email": "d@e.f"}]}'

    assert decode_all_problems(body, Profile) == Profile(
        contact=Lenient(email="a@b.c"), previous=[Lenient(email="d@e.f")]
    )


class Node(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    children: list[Node] = []


def test_a_struct_that_holds_itself_decodes_and_is_checked() -> None:
    assert decode_all_problems(b'{"name": "a", "children": [{"name": "b"}]}', Node) == Node(
        name="a", children=[Node(name="b")]
    )
    with pytest.raises(BadRequest) as refused:
        decode_all_problems(b'{"name": "a", "children": [{"name": 1}]}', Node)
    assert refused.value.problems[0].field == "children[0].name"
