"""The event base and its CloudEvents 1.0 metadata, carried in the binary mode of the CloudEvents
NATS binding: attributes travel as `ce-*` headers, the body is the event as JSON tagged by `type`,
and `Nats-Msg-Id` equals `ce-id` so JetStream deduplicates a re-publish."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

import msgspec

SPEC_VERSION = "1.0"
TYPE_PREFIX = "org.carebridge"

CE_SPECVERSION = "ce-specversion"
CE_ID = "ce-id"
CE_TYPE = "ce-type"
CE_SOURCE = "ce-source"
CE_TIME = "ce-time"
CE_DATACONTENTTYPE = "ce-datacontenttype"
# Extension attributes: lowercase alphanumerics only, as CloudEvents requires.
CE_CORRELATIONID = "ce-correlationid"
CE_CAUSATIONID = "ce-causationid"
# The CloudEvents distributed-tracing extension: the W3C trace context of the event's origin,
# so that whoever handles the event continues the same trace.
CE_TRACEPARENT = "ce-traceparent"
CE_TRACESTATE = "ce-tracestate"
# W3C Trace Context, version 00. A context from outside that does not match is dropped, not
# forwarded: it would end up in other services' messages.
TRACEPARENT_PATTERN = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
TRACESTATE_MAX = 512
NATS_MSG_ID = "Nats-Msg-Id"
CONTENT_TYPE = "application/json"


# Every timestamp on the wire carries its offset: a naive time means a different instant to
# every reader.
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of every message body. Subclasses set `tag=` to their wire name."""


def event_type(cls: type[Event]) -> str:
    """The `ce-type` of an event class: reverse-DNS prefix, wire tag, contract version.

    Every contract is at v1; a breaking change would add a new class and subject at `.v2`."""
    return f"{TYPE_PREFIX}.{cls.__struct_config__.tag}.v1"


class Metadata(msgspec.Struct, frozen=True, kw_only=True):
    """The CloudEvents attributes of one message."""

    id: str
    type: str
    source: str
    time: AwareDatetime
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    # Where the message arrived (without the deployment's namespace); not a header. A consumer
    # reading a channel with parameters learns them here, e.g. which partner sent a reply.
    subject: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {
            CE_SPECVERSION: SPEC_VERSION,
            CE_ID: self.id,
            CE_TYPE: self.type,
            CE_SOURCE: self.source,
            CE_TIME: self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            CE_DATACONTENTTYPE: CONTENT_TYPE,
            NATS_MSG_ID: self.id,
        }
        if self.correlation_id:
            headers[CE_CORRELATIONID] = self.correlation_id
        if self.causation_id:
            headers[CE_CAUSATIONID] = self.causation_id
        if self.traceparent:
            headers[CE_TRACEPARENT] = self.traceparent
            if self.tracestate:
                headers[CE_TRACESTATE] = self.tracestate
        return headers


def sender_msg_id(sender: str, event_id: str) -> str:
    """The `Nats-Msg-Id` a sender outside Carebridge (a partner) sets: its own id first, so the
    ids of two senders sharing a stream never collide in its duplicate window."""
    return f"{sender}:{event_id}"


class InvalidMetadata(ValueError):
    """A message lacks a required CloudEvents attribute or carries a malformed one."""


def metadata_from_headers(
    headers: Mapping[str, str] | None, subject: str | None = None
) -> Metadata:
    headers = headers or {}
    missing = [h for h in (CE_ID, CE_TYPE, CE_SOURCE, CE_TIME) if not headers.get(h)]
    if missing:
        raise InvalidMetadata(f"missing CloudEvents header(s): {', '.join(missing)}")
    if headers.get(CE_SPECVERSION) != SPEC_VERSION:
        raise InvalidMetadata(f"{CE_SPECVERSION} must be {SPEC_VERSION!r}")
    try:
        time = datetime.fromisoformat(headers[CE_TIME])
    except ValueError:
        raise InvalidMetadata(f"{CE_TIME} is not an RFC 3339 timestamp") from None
    if time.tzinfo is None:
        raise InvalidMetadata(f"{CE_TIME} must carry a UTC offset (RFC 3339)")
    return Metadata(
        id=headers[CE_ID],
        type=headers[CE_TYPE],
        source=headers[CE_SOURCE],
        time=time,
        correlation_id=headers.get(CE_CORRELATIONID),
        causation_id=headers.get(CE_CAUSATIONID),
        **trace_context(headers.get(CE_TRACEPARENT), headers.get(CE_TRACESTATE)),
        subject=subject,
    )


def trace_context(traceparent: str | None, tracestate: str | None) -> dict[str, str | None]:
    """The trace context as Metadata keeps it: a malformed traceparent is dropped with its
    state, an oversized state alone."""
    if traceparent is None or not TRACEPARENT_PATTERN.match(traceparent):
        return {"traceparent": None, "tracestate": None}
    if tracestate is not None and (not tracestate or len(tracestate) > TRACESTATE_MAX):
        tracestate = None
    return {"traceparent": traceparent, "tracestate": tracestate}
