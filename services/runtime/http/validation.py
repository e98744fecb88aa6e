"""Decoding that reports every problem at once. msgspec stops at the first invalid field, which
is right for messages but unkind to a person filling in a form: they would fix one field per
round trip. So each field is converted on its own and the problems are collected."""

from __future__ import annotations

import functools
import re
from typing import Any, TypeVar

import msgspec
import msgspec.inspect

from services.runtime.core.errors import BadRequest, FieldProblem

T = TypeVar("T", bound=msgspec.Struct)
_AT = re.compile(r" - at `\$(.*)`$")


def json_object(body: bytes) -> dict[str, Any]:
    """`body` as a JSON object, or BadRequest saying why not (the field `body`)."""
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest([FieldProblem(field="body", message=f"not valid JSON: {exc}")]) from None
    if not isinstance(raw, dict):
        raise BadRequest([FieldProblem(field="body", message="expected a JSON object")])
    return raw


def decode_all_problems(body: bytes, cls: type[T]) -> T:
    """`body` as a `cls`, or BadRequest listing every field that is missing, unknown or wrong.

    A good body is decoded in one pass (msgspec, in C); only a bad one is taken apart field by
    field to name every problem. Taking every body apart cost a submission about a fifth of its
    server time (py-spy): `msgspec.structs.fields` evaluates the annotations on every call.
    The one pass is taken only where it refuses what the field-by-field pass refuses: when
    every Struct in `cls` forbids unknown fields (the field-by-field pass names unknown fields
    wherever they are)."""
    if _refuses_unknown_fields(cls):
        try:
            return msgspec.json.decode(body, type=cls)
        except msgspec.DecodeError:  # not JSON, or not a valid `cls`: said in full below
            pass
    raw = json_object(body)
    problems = field_problems(raw, cls)
    if problems:
        raise BadRequest(problems)
    return msgspec.convert(raw, cls)


def field_problems(
    raw: dict[str, Any], cls: type[msgspec.Struct], prefix: str = ""
) -> list[FieldProblem]:
    fields = _fields(cls)
    problems = [
        FieldProblem(field=f"{prefix}{name}", message="is not a known field")
        for name in raw
        if name not in fields
    ]
    for name, info in fields.items():
        path = f"{prefix}{name}"
        if name not in raw:
            if info.required:
                problems.append(FieldProblem(field=path, message="is required"))
            continue
        nested = _struct_type(info.type)
        if nested is not None and isinstance(raw[name], dict):
            problems += field_problems(raw[name], nested, prefix=f"{path}.")
            continue
        try:
            msgspec.convert(raw[name], info.type)
        except msgspec.ValidationError as exc:
            message = str(exc)
            at = _AT.search(message)
            where = f"{path}{at.group(1)}" if at else path
            problems.append(FieldProblem(field=where, message=_AT.sub("", message)))
    if not problems:
        try:
            msgspec.convert(raw, cls)
        except msgspec.ValidationError as exc:  # rules across fields (__post_init__)
            problems.append(FieldProblem(field=prefix.rstrip(".") or "body", message=str(exc)))
    return problems


@functools.cache
def _fields(cls: type[msgspec.Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    return {f.encode_name: f for f in msgspec.structs.fields(cls)}


@functools.cache
def _refuses_unknown_fields(cls: type[msgspec.Struct]) -> bool:
    """Whether every Struct a `cls` body may hold, `cls` too, forbids unknown fields."""
    seen: set[int] = set()

    def strict(node: Any) -> bool:
        if id(node) in seen:  # a Struct that holds itself: already being checked
            return True
        seen.add(id(node))
        if isinstance(node, msgspec.inspect.StructType) and not node.forbid_unknown_fields:
            return False
        return all(strict(child) for child in _children(node))

    return strict(msgspec.inspect.type_info(cls))


def _children(node: Any) -> list[Any]:
    """The type nodes one `msgspec.inspect` node holds (a Struct's fields, a list's items, a
    union's members)."""
    if isinstance(node, msgspec.inspect.StructType):
        return [f.type for f in node.fields]
    found: list[Any] = []
    for name in ("item_type", "key_type", "value_type", "types", "item_types"):
        value = getattr(node, name, None)
        if isinstance(value, msgspec.inspect.Type):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(v for v in value if isinstance(v, msgspec.inspect.Type))
    return found


def _struct_type(tp: Any) -> type[msgspec.Struct] | None:
    return tp if isinstance(tp, type) and issubclass(tp, msgspec.Struct) else None


# A name or a one-line label: no control character at all, line breaks included. Every JSON body
# is already refused with other control characters (services/runtime/http/json_input.py).
SINGLE_LINE = msgspec.Meta(pattern=r"^[^\x00-\x1f\x7f]*$")


class Form(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """HTTP input: a misspelt field is an error, not silently dropped. Every request body
    Struct derives from it."""
