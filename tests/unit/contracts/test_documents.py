"""The published contract documents say what the code does, and the envelope and registry behave
as those documents promise. No servers needed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, get_args

import msgspec
import pytest
import yaml

from contracts.content import (
    ContentKind,
    ContentPublished,
    ContentUnpublished,
    content_event_decoder,
)
from contracts.envelope import (
    CE_ID,
    CE_SPECVERSION,
    CE_TIME,
    NATS_MSG_ID,
    InvalidMetadata,
    Metadata,
    event_type,
    metadata_from_headers,
)
from contracts.generate import (
    ASYNCAPI_PATH,
    JSON_SCHEMA_DIALECT,
    REQUIRED_HEADERS,
    SCHEMAS_DIR,
    asyncapi_document,
    channel_key,
    message_classes,
    render_documents,
    wire_name,
)
from contracts.registry import (
    CHANNELS,
    CONTENT_KIND,
    CONTENT_PUBLISHED,
    REQUEST_CHANNELS,
    STREAMS,
    Channel,
    RequestChannel,
    stream_named,
)
from deploy.api_documents import ROOT, drift, render_all

ADDRESS_PARAMETER = re.compile(r"\{(\w+)\}")
MESSAGE_CLASSES = message_classes(CHANNELS)


@pytest.fixture(scope="module")
def documents() -> dict[Path, str]:
    return render_documents()


@pytest.fixture(scope="module")
def asyncapi(documents: dict[Path, str]) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(documents[ASYNCAPI_PATH])
    return loaded


def schema_of(documents: dict[Path, str], cls: type[Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(documents[SCHEMAS_DIR / f"{wire_name(cls)}.json"])
    return loaded


def published(**overrides: Any) -> ContentPublished:
    fields: dict[str, Any] = {
        "kind": "treatment",
        "slug": "knee-replacement",
        "locales": ("en", "de-DE"),
        "revision": 3,
        "published_at": datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        "previous_slugs": ("knee-surgery",),
    }
    return ContentPublished(**{**fields, **overrides})


# --- the checked-in documents -------------------------------------------------------------------


def test_checked_in_documents_are_what_the_code_generates() -> None:
    problems = drift(ROOT, render_all())

    assert not problems, (
        "API documents in contracts/ are out of date with the code:\n  "
        + "\n  ".join(problems)
        + "\nRun `make contracts` (python -m deploy.api_documents) and commit the result."
    )


def test_asyncapi_yaml_reads_back_as_the_document(
    documents: dict[Path, str], asyncapi: dict[str, Any]
) -> None:
    expected = msgspec.json.decode(
        msgspec.json.encode(asyncapi_document(CHANNELS, REQUEST_CHANNELS))
    )

    assert asyncapi == expected
    # Values YAML would silently turn into numbers if written unquoted.
    assert asyncapi["asyncapi"] == "3.0.0"
    headers = asyncapi["components"]["messages"]["content_published"]["headers"]
    assert headers["properties"][CE_SPECVERSION]["const"] == "1.0"


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=wire_name)
def test_every_message_has_a_schema_file(documents: dict[Path, str], cls: type[Any]) -> None:
    schema = schema_of(documents, cls)

    assert schema["$schema"] == JSON_SCHEMA_DIALECT
    assert schema["$id"] == (f"https://carebridge.example/contracts/schemas/{wire_name(cls)}.json")
    assert schema["title"] == cls.__name__
    assert schema["description"], f"{cls.__name__} needs a docstring: it becomes the description"
    assert schema["properties"]["type"]["enum"] == [wire_name(cls)]


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=wire_name)
def test_every_message_is_an_asyncapi_message_with_cloudevents_headers(
    asyncapi: dict[str, Any], cls: type[Any]
) -> None:
    message = asyncapi["components"]["messages"][wire_name(cls)]
    headers = message["headers"]

    assert message["payload"] == {"$ref": f"#/components/schemas/{cls.__name__}"}
    assert headers["required"] == list(REQUIRED_HEADERS)
    assert headers["properties"]["ce-type"]["const"] == event_type(cls)


def test_every_reference_in_the_asyncapi_document_resolves(asyncapi: dict[str, Any]) -> None:
    refs = list(_refs(asyncapi))

    assert refs
    for ref in refs:
        _resolve(asyncapi, ref)


def test_every_channel_has_an_operation_with_its_action(asyncapi: dict[str, Any]) -> None:
    for channel in CHANNELS:
        key = channel_key(channel)
        operation = asyncapi["operations"][f"{channel.action}_{key}"]

        assert asyncapi["channels"][key]["address"] == channel.address
        assert operation["action"] == channel.action
        assert operation["channel"] == {"$ref": f"#/channels/{key}"}


# --- the registry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.address)
def test_every_address_parameter_is_declared(asyncapi: dict[str, Any], channel: Channel) -> None:
    in_address = set(ADDRESS_PARAMETER.findall(channel.address))
    documented = asyncapi["channels"][channel_key(channel)].get("parameters", {})

    assert in_address == channel.parameters.keys()
    assert in_address == documented.keys()
    assert all(parameter["description"] for parameter in documented.values())


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.address)
def test_every_channel_is_captured_by_its_stream(channel: Channel) -> None:
    stream = stream_named(channel.stream)

    assert any(_covers(pattern, channel.filter_subject) for pattern in stream.subjects)


@pytest.mark.parametrize("request_channel", REQUEST_CHANNELS, ids=lambda c: c.address)
def test_no_stream_captures_a_request_subject(request_channel: RequestChannel) -> None:
    # A stream would answer the request itself, with its publish acknowledgement.
    captured = [
        spec.name
        for spec in STREAMS
        for pattern in spec.subjects
        if _covers(pattern, request_channel.address)
    ]
    assert captured == []


@pytest.mark.parametrize("request_channel", REQUEST_CHANNELS, ids=lambda c: c.address)
def test_a_request_is_an_asyncapi_operation_with_its_replies(
    asyncapi: dict[str, Any], documents: dict[Path, str], request_channel: RequestChannel
) -> None:
    key = channel_key(request_channel)
    operation = asyncapi["operations"][f"request_{key}"]
    assert asyncapi["channels"][key]["address"] == request_channel.address
    replies = [ref["$ref"].rsplit("/", 1)[1] for ref in operation["reply"]["messages"]]
    assert replies == [wire_name(cls) for cls in request_channel.replies]
    for cls in (request_channel.request, *request_channel.replies):
        assert schema_of(documents, cls)["$id"].endswith(f"/{wire_name(cls)}.json")


def test_kind_parameter_allows_exactly_the_kinds_a_payload_may_carry() -> None:
    assert set(CONTENT_KIND.enum) == set(get_args(ContentKind))


def test_subject_fills_the_address_parameters() -> None:
    assert CONTENT_PUBLISHED.subject(kind="condition") == "content.condition.published.v1"


@pytest.mark.parametrize("params", [{}, {"type": "condition"}, {"kind": "x", "locale": "en"}])
def test_subject_with_wrong_parameters_is_refused(params: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"takes parameters \['kind'\]"):
        CONTENT_PUBLISHED.subject(**params)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("condition.x", "is not a single subject token"),
        ("*", "is not a single subject token"),
        (">", "is not a single subject token"),
        ("", "is not a single subject token"),
        ("recipe", "is not one of condition, treatment, service"),
    ],
)
def test_subject_refuses_values_that_would_leave_the_channel(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        CONTENT_PUBLISHED.subject(kind=value)


def test_filter_subject_replaces_every_parameter_with_a_wildcard() -> None:
    assert CONTENT_PUBLISHED.filter_subject == "content.*.published.v1"


# --- schemas and payloads -----------------------------------------------------------------------


def test_an_encoded_event_fits_its_schema_and_decodes_to_itself(
    documents: dict[Path, str],
) -> None:
    event = published()
    body = msgspec.json.encode(event)
    fields = json.loads(body)
    schema = schema_of(documents, ContentPublished)

    assert set(schema["required"]) <= fields.keys() <= schema["properties"].keys()
    assert fields["type"] in schema["properties"]["type"]["enum"]
    assert re.search(schema["properties"]["slug"]["pattern"], fields["slug"])
    assert msgspec.json.decode(body, type=ContentPublished) == event


def test_a_bad_slug_is_refused_by_the_schema_and_by_the_decoder(
    documents: dict[Path, str],
) -> None:
    # Built as JSON: the class itself does not validate on construction.
    fields = json.loads(msgspec.json.encode(published()))
    fields["slug"] = "Knee Replacement"
    pattern = schema_of(documents, ContentPublished)["properties"]["slug"]["pattern"]

    assert re.search(pattern, fields["slug"]) is None
    with pytest.raises(msgspec.ValidationError, match=r"\$\.slug"):
        msgspec.json.decode(json.dumps(fields), type=ContentPublished)


def test_the_content_decoder_picks_the_class_by_type() -> None:
    unpublished = ContentUnpublished(
        kind="service",
        slug="airport-transfer",
        locales=("en",),
        revision=2,
        unpublished_at=datetime(2025, 3, 2, tzinfo=UTC),
    )

    assert content_event_decoder.decode(msgspec.json.encode(published())) == published()
    assert content_event_decoder.decode(msgspec.json.encode(unpublished)) == unpublished


def test_the_content_decoder_refuses_an_unknown_type() -> None:
    fields = json.loads(msgspec.json.encode(published()))
    fields["type"] = "content_archived"

    with pytest.raises(msgspec.ValidationError, match=r"content_archived.*\$\.type"):
        content_event_decoder.decode(json.dumps(fields))


# --- CloudEvents headers ------------------------------------------------------------------------


def metadata(**overrides: Any) -> Metadata:
    fields: dict[str, Any] = {
        "id": "0b7f3c1e-4d1a-4a8e-9a59-2f0f6a3f6c11",
        "type": event_type(ContentPublished),
        "source": "/carebridge/content",
        "time": datetime(2025, 3, 1, 9, 30, 15, 250000, tzinfo=UTC),
        "correlation_id": "req-42",
        "causation_id": "7d1c4c4e-2b8e-4f51-8d8f-0c7b3f1f2a10",
    }
    return Metadata(**{**fields, **overrides})


@pytest.mark.parametrize(
    "meta",
    [
        metadata(),
        metadata(correlation_id=None, causation_id=None),
        metadata(time=datetime(2025, 3, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))),
    ],
    ids=["all attributes", "no extensions", "non-UTC time"],
)
def test_metadata_survives_a_trip_through_headers(meta: Metadata) -> None:
    headers = meta.headers()

    assert metadata_from_headers(headers) == meta
    assert headers[CE_TIME].endswith("Z")


def test_nats_msg_id_is_the_event_id() -> None:
    headers = metadata().headers()

    assert headers[NATS_MSG_ID] == headers[CE_ID] == metadata().id


@pytest.mark.parametrize(
    ("header", "value"),
    [(CE_ID, None), (CE_SPECVERSION, "0.3"), (CE_SPECVERSION, None), (CE_TIME, "yesterday")],
    ids=["missing ce-id", "wrong specversion", "missing specversion", "bad ce-time"],
)
def test_malformed_headers_are_refused_naming_the_header(header: str, value: str | None) -> None:
    headers = metadata().headers()
    if value is None:
        del headers[header]
    else:
        headers[header] = value

    with pytest.raises(InvalidMetadata, match=header):
        metadata_from_headers(headers)


# --- helpers ------------------------------------------------------------------------------------


def _refs(node: Any) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} is not a local reference"
    node: Any = document
    for token in ref.removeprefix("#/").split("/"):
        name = token.replace("~1", "/").replace("~0", "~")
        assert name in node, f"{ref} does not resolve: no {name!r}"
        node = node[name]
    return node


def _covers(pattern: str, subject: str) -> bool:
    """Whether the NATS subject filter `pattern` matches every subject `subject` matches."""
    pattern_tokens, subject_tokens = pattern.split("."), subject.split(".")
    for i, token in enumerate(pattern_tokens):
        if token == ">":
            return len(subject_tokens) > i
        if i >= len(subject_tokens) or token not in ("*", subject_tokens[i]):
            return False
    return len(pattern_tokens) == len(subject_tokens)
