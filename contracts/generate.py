"""Renders the published message contracts from the registry: one JSON Schema per message and an
AsyncAPI 3.0 document of every channel. Rendering is pure and deterministic, so the checked-in
documents can be compared with what the code says; `deploy.api_documents` writes and checks them."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from contracts.envelope import (
    CE_CAUSATIONID,
    CE_CORRELATIONID,
    CE_DATACONTENTTYPE,
    CE_ID,
    CE_SOURCE,
    CE_SPECVERSION,
    CE_TIME,
    CE_TYPE,
    CONTENT_TYPE,
    NATS_MSG_ID,
    SPEC_VERSION,
    Event,
    event_type,
)
from contracts.registry import (
    CHANNELS,
    REQUEST_CHANNELS,
    STREAMS,
    Channel,
    Parameter,
    RequestChannel,
)

SCHEMAS_DIR = Path("contracts/schemas")
ASYNCAPI_PATH = Path("contracts/asyncapi.yaml")
BASE_URI = "https://carebridge.example/contracts"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_VERSION = "3.0.0"

REQUIRED_HEADERS = (CE_SPECVERSION, CE_ID, CE_TYPE, CE_SOURCE, CE_TIME, NATS_MSG_ID)

INFO_DESCRIPTION = inspect.cleandoc(
    """
    Events that Carebridge services publish on NATS JetStream, and the protocol partners use to
    exchange messages with them.

    Every message follows the CloudEvents 1.0 NATS protocol binding in binary mode: the event
    attributes travel as headers (`ce-specversion`, `ce-id`, `ce-type`, `ce-source`, `ce-time`,
    `ce-datacontenttype`, and the extensions `ce-correlationid` and `ce-causationid`), and the
    body is the event itself as JSON, tagged by its `type` field.

    `Nats-Msg-Id` equals `ce-id`, so JetStream drops a copy re-published within the stream's
    duplicate window. Delivery is still at least once: consumers deduplicate on `ce-id`.

    Subjects end in their contract version (`.v1`), and `ce-type` carries the same version.
    Contracts evolve additively only: new fields with defaults, new message types, new channels.
    Consumers ignore fields they do not know. A breaking change is a new message type on a new
    subject at `.v2`.

    Subjects under `rpc.` are core-NATS request/reply between Carebridge services, for a question
    a person waits on (a patient's data export): in no stream, answered at once or not at all,
    and their messages are plain JSON tagged by `type`, without CloudEvents headers.

    A deployment may set a namespace that prefixes every subject (`<namespace>.content.…`) and
    every stream name (`<namespace>_CONTENT`); the addresses below are without it.
    """
)


def render_documents() -> dict[Path, str]:
    """Every contract document, keyed by its path relative to the repository root."""
    documents = {
        SCHEMAS_DIR / f"{wire_name(cls)}.json": render_json(message_schema(cls))
        for cls in message_classes(CHANNELS) + request_classes(REQUEST_CHANNELS)
    }
    documents[ASYNCAPI_PATH] = render_yaml(asyncapi_document(CHANNELS, REQUEST_CHANNELS))
    return documents


def render_json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_yaml(document: Any) -> str:
    # PyYAML is a development dependency: importing the contracts needs only msgspec and stdlib.
    import yaml  # noqa: PLC0415

    class Dumper(yaml.SafeDumper):
        """Writes multi-line text as literal blocks, so descriptions read as written."""

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, represent_str)
    # Through JSON first: plain JSON data only, and no shared objects YAML would write as anchors.
    data = msgspec.json.decode(msgspec.json.encode(document))
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)


def message_classes(channels: Iterable[Channel]) -> list[type[Event]]:
    """Each message class once, in the order the channels list them."""
    return list(dict.fromkeys(cls for channel in channels for cls in channel.messages))


def request_classes(requests: Iterable[RequestChannel]) -> list[type[Event]]:
    """Each request and reply class once, in the order the request channels list them."""
    return list(dict.fromkeys(cls for r in requests for cls in (r.request, *r.replies)))


def wire_name(cls: type[Event]) -> str:
    tag = cls.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{cls.__name__} needs a string tag= to be a message")
    return tag


def message_schema(cls: type[Event]) -> dict[str, Any]:
    """A standalone JSON Schema whose root is the message itself, so any validator can use it."""
    (root,), components = msgspec.json.schema_components([cls], ref_template="#/$defs/{name}")
    name = root["$ref"].removeprefix("#/$defs/")
    schema = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{BASE_URI}/schemas/{wire_name(cls)}.json",
        **components.pop(name),
    }
    if components:
        schema["$defs"] = components
    # A message that contains itself refers to the root, which is no longer in $defs.
    standalone: dict[str, Any] = _replace_refs(schema, {root["$ref"]: "#"})
    return standalone


def asyncapi_document(
    channels: Iterable[Channel], requests: Iterable[RequestChannel] = ()
) -> dict[str, Any]:
    channel_by_key = _channels_by_key(channels)
    request_by_key = {channel_key(r): r for r in requests}
    events = message_classes(channel_by_key.values())
    exchanged = request_classes(request_by_key.values())
    payloads, schemas = msgspec.json.schema_components(
        events + exchanged, ref_template="#/components/schemas/{name}"
    )
    payload_of = dict(zip(events + exchanged, payloads, strict=True))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Carebridge events and partner protocol",
            "version": "1.0.0",
            "description": INFO_DESCRIPTION,
            "license": {
                "name": "Apache-2.0",
                "url": "https://www.apache.org/licenses/LICENSE-2.0",
            },
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "localhost:4222",
                "protocol": "nats",
                "description": "The NATS server of the local development stack.",
            }
        },
        "channels": {
            **{key: channel_object(ch) for key, ch in channel_by_key.items()},
            **{
                name: obj
                for key, r in request_by_key.items()
                for name, obj in request_channel_objects(key, r).items()
            },
        },
        "operations": {
            **{
                f"{ch.action}_{key}": operation_object(key, ch)
                for key, ch in channel_by_key.items()
            },
            **{f"request_{key}": request_operation(key, r) for key, r in request_by_key.items()},
        },
        "components": {
            "messages": {
                **{wire_name(cls): message_object(cls, payload_of[cls]) for cls in events},
                **{wire_name(cls): exchanged_object(cls, payload_of[cls]) for cls in exchanged},
            },
            "schemas": _asyncapi_discriminators(dict(sorted(schemas.items()))),
        },
        "x-carebridge-streams": [msgspec.to_builtins(stream) for stream in STREAMS],
    }


def channel_key(channel: Channel | RequestChannel) -> str:
    """AsyncAPI allows only letters, digits, `_` and `-` in a channel's key."""
    return re.sub(r"[^A-Za-z0-9]+", "_", channel.address).strip("_")


def request_channel_objects(key: str, request: RequestChannel) -> dict[str, dict[str, Any]]:
    """The request's channel, and the reply's: the requester's inbox, named by NATS as the
    request's reply subject, so its address is not known in advance (null)."""
    return {
        key: {
            "address": request.address,
            "description": (
                f"{request.description} Core NATS request/reply, in no stream; answered by "
                f"one replica of {request.responder} (queue group `{request.queue}`), asked by "
                f"{', '.join(request.requesters)}."
            ),
            "messages": {
                wire_name(request.request): {
                    "$ref": f"#/components/messages/{wire_name(request.request)}"
                }
            },
        },
        f"{key}_reply": {
            "address": None,
            "description": "The requester's inbox: the reply subject NATS gives the request.",
            "messages": {
                wire_name(cls): {"$ref": f"#/components/messages/{wire_name(cls)}"}
                for cls in request.replies
            },
        },
    }


def request_operation(key: str, request: RequestChannel) -> dict[str, Any]:
    """Seen from the requester: it sends the request and receives one of the replies."""
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{key}"},
        "summary": request.description,
        "messages": [{"$ref": f"#/channels/{key}/messages/{wire_name(request.request)}"}],
        "reply": {
            "channel": {"$ref": f"#/channels/{key}_reply"},
            "messages": [
                {"$ref": f"#/channels/{key}_reply/messages/{wire_name(cls)}"}
                for cls in request.replies
            ],
        },
    }


def channel_object(channel: Channel) -> dict[str, Any]:
    obj: dict[str, Any] = {"address": channel.address, "description": channel.description}
    if channel.parameters:
        obj["parameters"] = {
            name: parameter_object(param) for name, param in channel.parameters.items()
        }
    obj["messages"] = {
        wire_name(cls): {"$ref": f"#/components/messages/{wire_name(cls)}"}
        for cls in channel.messages
    }
    obj["x-carebridge-stream"] = channel.stream
    return obj


def parameter_object(param: Parameter) -> dict[str, Any]:
    obj: dict[str, Any] = {"description": param.description}
    if param.enum:
        obj["enum"] = list(param.enum)
    if param.pattern is not None:
        # AsyncAPI 3 parameters are not schemas and have no `pattern`; an extension keeps it.
        obj["x-pattern"] = param.pattern
    return obj


def operation_object(key: str, channel: Channel) -> dict[str, Any]:
    return {
        "action": channel.action,
        "channel": {"$ref": f"#/channels/{key}"},
        "summary": channel.description,
        # AsyncAPI 3 requires an operation's messages to be those of its channel, by reference.
        "messages": [
            {"$ref": f"#/channels/{key}/messages/{wire_name(cls)}"} for cls in channel.messages
        ],
    }


def message_object(cls: type[Event], payload: dict[str, Any]) -> dict[str, Any]:
    description = {"description": inspect.cleandoc(cls.__doc__)} if cls.__doc__ else {}
    return {
        "name": wire_name(cls),
        "title": cls.__name__,
        **description,
        "contentType": CONTENT_TYPE,
        "correlationId": {
            "description": "Shared by every message of one request or business process.",
            "location": f"$message.header#/{CE_CORRELATIONID}",
        },
        "headers": headers_schema(cls),
        "payload": payload,
    }


def exchanged_object(cls: type[Event], payload: dict[str, Any]) -> dict[str, Any]:
    """A request or reply between services: a plain JSON body tagged by `type`, no CloudEvents
    headers, since it is an answer to one caller, not a fact for many."""
    description = {"description": inspect.cleandoc(cls.__doc__)} if cls.__doc__ else {}
    return {
        "name": wire_name(cls),
        "title": cls.__name__,
        **description,
        "contentType": CONTENT_TYPE,
        "payload": payload,
    }


def headers_schema(cls: type[Event]) -> dict[str, Any]:
    """The CloudEvents attributes of `cls` as binary-mode headers."""
    properties = {
        CE_SPECVERSION: {"type": "string", "const": SPEC_VERSION},
        CE_ID: {
            "type": "string",
            "minLength": 1,
            "description": "Unique id of the event; a re-publish of the same event keeps it.",
        },
        CE_TYPE: {"type": "string", "const": event_type(cls)},
        CE_SOURCE: {
            "type": "string",
            "format": "uri-reference",
            "description": "The publishing service, such as `/carebridge/content`.",
        },
        CE_TIME: {
            "type": "string",
            "format": "date-time",
            "description": "When the event happened, RFC 3339 in UTC.",
        },
        CE_DATACONTENTTYPE: {"type": "string", "const": CONTENT_TYPE},
        CE_CORRELATIONID: {
            "type": "string",
            "description": "Id shared by every message of one request or business process.",
        },
        CE_CAUSATIONID: {
            "type": "string",
            "description": "`ce-id` of the message that caused this one, if any.",
        },
        NATS_MSG_ID: {
            "type": "string",
            "description": "Equal to `ce-id`, for JetStream's deduplication.",
        },
    }
    return {"type": "object", "required": list(REQUIRED_HEADERS), "properties": properties}


def _channels_by_key(channels: Iterable[Channel]) -> dict[str, Channel]:
    by_key: dict[str, Channel] = {}
    for channel in channels:
        key = channel_key(channel)
        if key in by_key:
            raise ValueError(f"{channel.address} and {by_key[key].address} share the key {key}")
        by_key[key] = channel
    return by_key


def _asyncapi_discriminators(node: Any) -> Any:
    """msgspec writes a tagged union's discriminator the OpenAPI way ({propertyName, mapping});
    an AsyncAPI 3.0 Schema Object names the property alone, as a string (the official schema
    refuses the object). The union's `anyOf` and each member's tag const carry the rest."""
    if isinstance(node, dict):
        return {
            key: value["propertyName"]
            if key == "discriminator" and isinstance(value, dict) and "propertyName" in value
            else _asyncapi_discriminators(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_asyncapi_discriminators(item) for item in node]
    return node


def _replace_refs(node: Any, replacements: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: replacements.get(value, value)
            if key == "$ref"
            else _replace_refs(value, replacements)
            for key, value in node.items()
        }
    if isinstance(node, list | tuple):
        return [_replace_refs(item, replacements) for item in node]
    return node
