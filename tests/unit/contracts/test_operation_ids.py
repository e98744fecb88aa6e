"""Every operation in the published OpenAPI documents has an id a client generator can turn into
a readable method name: a camelCase verb phrase, unique within its document."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.runtime.http.operation_ids import camel_case

OPENAPI = Path(__file__).resolve().parents[3] / "contracts" / "openapi"
READABLE = re.compile(r"^[a-z][A-Za-z]+$")
METHODS = ("get", "put", "post", "patch", "delete")


def _operation_ids(document: Path) -> list[str]:
    paths = json.loads(document.read_text())["paths"]
    return [item[m].get("operationId", "") for item in paths.values() for m in METHODS if m in item]


@pytest.mark.parametrize("document", sorted(OPENAPI.glob("*.json")), ids=lambda p: p.stem)
def test_every_operation_id_is_a_readable_camel_case_name_unique_in_its_document(
    document: Path,
) -> None:
    ids = _operation_ids(document)

    assert ids
    assert [i for i in ids if not READABLE.match(i)] == []
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


def test_the_public_reads_have_the_names_a_site_developer_looks_for() -> None:
    ids = {d.stem: set(_operation_ids(d)) for d in OPENAPI.glob("*.json")}

    assert {"getDocument", "listDocuments", "searchContent", "syncContent"} <= ids["content"]
    assert {"submitInquiry", "getInquiryStatus"} <= ids["inquiries"]
    assert {"listDeadLetters", "replayDeadLetter"} <= ids["logistics"]


def test_a_handler_name_becomes_camel_case() -> None:
    assert camel_case("replay_dead_letter") == "replayDeadLetter"
    assert camel_case("sync") == "sync"
