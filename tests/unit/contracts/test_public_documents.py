"""What a generator needs from the public documents (contracts/openapi/*.public.json): every
answer with a body is typed (a component, an object with its properties, a union or a list of
them), never a bare object or string; so is every body a route reads; no staff route is in
them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

OPENAPI = Path(__file__).resolve().parents[3] / "contracts" / "openapi"
PUBLIC = sorted(OPENAPI.glob("*.public.json"))
METHODS = {"get", "put", "post", "patch", "delete"}


def operations(path: Path) -> list[tuple[str, str, dict[str, Any]]]:
    document = json.loads(path.read_text())
    return [
        (route, method, op)
        for route, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def named(schema: dict[str, Any]) -> bool:
    """A schema a generator turns into a type with fields."""
    if "$ref" in schema or schema.get("properties"):
        return True
    if "oneOf" in schema or "anyOf" in schema:
        return all(named(s) for s in schema.get("oneOf", schema.get("anyOf", [])))
    if schema.get("type") == "array":
        return named(schema["items"])
    return False


def test_there_is_a_public_document_for_each_service_sites_call() -> None:
    # Content to read, inquiries to submit and follow, support for the patient's cases.
    assert {p.name for p in PUBLIC} == {
        "content.public.json",
        "inquiries.public.json",
        "support.public.json",
    }


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_every_answer_with_a_body_is_typed(path: Path) -> None:
    untyped = [
        f"{method.upper()} {route} {status} {media}"
        for route, method, op in operations(path)
        for status, answer in op["responses"].items()
        for media, content in answer.get("content", {}).items()
        if not status.startswith(("4", "5")) and not named(content.get("schema", {}))
    ]

    assert untyped == []


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_every_body_a_public_route_reads_is_typed(path: Path) -> None:
    for route, method, op in operations(path):
        if method in {"post", "put", "patch"} and "requestBody" in op:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert named(schema), f"{method.upper()} {route}"
    submit = (
        next(op for r, m, op in operations(path) if r == "/v1/inquiries" and m == "post")
        if (path.name.startswith("inquiries"))
        else None
    )
    if submit is not None:
        assert submit["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/SubmitInquiry"
        }


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_no_staff_route_is_public(path: Path) -> None:
    for route, method, op in operations(path):
        ways = op.get("security") or [{}]
        assert any("staffToken" not in way for way in ways), f"{method.upper()} {route}"
        assert not route.startswith(("/admin/", "/health/"))
