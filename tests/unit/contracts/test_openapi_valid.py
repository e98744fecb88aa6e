"""Every OpenAPI document in contracts/openapi/ is valid OpenAPI 3.1, as the spec's own JSON
Schema (through openapi-spec-validator) says: what a client generator reads must be a document
it can read."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

DOCUMENTS = sorted((Path(__file__).resolve().parents[3] / "contracts" / "openapi").glob("*.json"))


def test_every_service_has_documents() -> None:
    assert {p.stem.split(".")[0] for p in DOCUMENTS} >= {
        "content",
        "inquiries",
        "logistics",
        "notifications",
        "support",
    }


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_the_document_is_valid_openapi_3_1(path: Path) -> None:
    document: dict[str, Any] = json.loads(path.read_text())

    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_validator_refuses_a_broken_document() -> None:
    document: dict[str, Any] = copy.deepcopy(json.loads(DOCUMENTS[0].read_text()))
    item = next(iter(document["paths"].values()))
    operation = next(op for op in item.values() if isinstance(op, dict) and "responses" in op)
    operation["responses"] = {"200": {"content": "not an object"}}

    with pytest.raises(OpenAPIValidationError):
        validate(document)
