"""Every integer path and query parameter of every service is bounded (services/runtime/http/
parameters.py): a number past bigint reached PostgreSQL and came back as a 500. Read from the
OpenAPI documents, which a test keeps equal to the routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.runtime.core.integers import BIGINT_MAX

DOCUMENTS = sorted((Path(__file__).resolve().parents[3] / "contracts" / "openapi").glob("*.json"))


def _integer_parameters(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue  # path-level fields ("parameters", "summary")
            for parameter in operation.get("parameters", ()):
                schema = parameter.get("schema", {})
                # "type" may be a list (["string", "null"]) and alternatives may be in oneOf.
                if '"integer"' in json.dumps(schema):
                    found.append((f"{method.upper()} {path}", parameter["name"], schema))
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.stem)
def test_every_integer_parameter_is_bounded_by_bigint(document: Path) -> None:
    parameters = _integer_parameters(json.loads(document.read_text()))
    unbounded = [
        f"{route} {name}"
        for route, name, schema in parameters
        # Litestar writes some bounds as floats: 2**63 - 1 becomes 2.0**63.
        if "maximum" not in schema
        or schema["maximum"] > float(BIGINT_MAX)
        or "minimum" not in schema
    ]
    assert not unbounded, unbounded


def test_the_scan_finds_the_integer_parameters_there_are() -> None:
    # A document may have none (a small public one); the scan must still see those that exist.
    found = {p.stem for p in DOCUMENTS if _integer_parameters(json.loads(p.read_text()))}
    assert {"content", "inquiries", "logistics"} <= found
