"""The AsyncAPI document is valid against the official AsyncAPI 3.0 JSON Schema, as shipped in
the npm package @asyncapi/specs (pinned by clients/typescript/package-lock.json)."""

from __future__ import annotations

import json

import jsonschema
import yaml

from tests.unit.contracts.node_tools import ROOT, require_node_tools


def official_schema() -> dict[str, object]:
    specs = require_node_tools() / "@asyncapi" / "specs" / "schemas"
    schema: dict[str, object] = json.loads((specs / "3.0.0-without-$id.json").read_text())
    return schema


def test_the_asyncapi_document_is_valid_against_the_official_3_0_schema() -> None:
    schema = official_schema()
    document = yaml.safe_load((ROOT / "contracts" / "asyncapi.yaml").read_text())
    assert document["asyncapi"].startswith("3.0")

    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator.iter_errors(document)
    ]

    assert problems == []


def test_the_official_schema_refuses_a_discriminator_written_the_openapi_way() -> None:
    """The check can fail: the form msgspec writes (and the document once had) is refused."""
    schema = official_schema()
    document = yaml.safe_load((ROOT / "contracts" / "asyncapi.yaml").read_text())
    union = next(s for s in document["components"]["schemas"].values() if "discriminator" in str(s))
    union_text = json.dumps(union).replace(
        '"discriminator": "kind"', '"discriminator": {"propertyName": "kind"}'
    )
    document["components"]["schemas"]["Broken"] = json.loads(union_text)

    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors(document))
