"""Which message travels on which subject, in which stream. The source of `make contracts` and of
stream provisioning: a subject not listed here is not part of the system."""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from contracts.content import ContentPublished, ContentUnpublished
from contracts.envelope import Event
from contracts.inquiries import InquiryStatusChanged, InquirySubmitted

_PARAM = re.compile(r"\{(\w+)\}")


class StreamSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A JetStream stream. Durability settings are chosen in one place, for every stream."""

    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_seconds: float = 30 * 24 * 3600
    # Longer than the outbox relay's retry horizon, so a relay that published and then lost its
    # database commit re-publishes into the window and JetStream drops the copy.
    duplicate_window_seconds: float = 15 * 60


_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


class Parameter(msgspec.Struct, frozen=True, kw_only=True):
    description: str
    enum: tuple[str, ...] = ()
    pattern: str | None = None

    def check(self, name: str, value: str) -> None:
        if not _TOKEN.match(value):
            raise ValueError(f"{name}={value!r} is not a single subject token")
        if self.enum and value not in self.enum:
            raise ValueError(f"{name}={value!r} is not one of {', '.join(self.enum)}")
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise ValueError(f"{name}={value!r} does not match {self.pattern}")


class Channel(msgspec.Struct, frozen=True, kw_only=True):
    """One subject (possibly with `{parameters}`) and the messages that travel on it."""

    address: str
    stream: str
    messages: tuple[type[Event], ...]
    description: str
    # Seen from Carebridge: "send" = we publish here, "receive" = we consume from here.
    action: Literal["send", "receive"] = "send"
    parameters: dict[str, Parameter] = {}

    def subject(self, **params: str) -> str:
        """The concrete subject; refuses values that would leave the channel (dots, wildcards)
        or that its parameters do not allow."""
        names = set(_PARAM.findall(self.address))
        if names != params.keys():
            raise ValueError(f"{self.address} takes parameters {sorted(names)}")
        for name, value in params.items():
            self.parameters[name].check(name, value)
        return self.address.format(**params)

    @property
    def filter_subject(self) -> str:
        """The subject filter that matches every concrete subject of this channel."""
        return _PARAM.sub("*", self.address)


CONTENT_KIND = Parameter(
    description="Kind of content document", enum=("condition", "treatment", "service")
)

STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(
        name="CONTENT",
        subjects=("content.>",),
        description="Facts about published content, for caches and catalogues",
    ),
    StreamSpec(
        name="INQUIRIES",
        subjects=("inquiries.>",),
        description="The lifecycle of patient inquiries, by pseudonymous inquiry id",
    ),
)

CONTENT_PUBLISHED = Channel(
    address="content.{kind}.published.v1",
    stream="CONTENT",
    messages=(ContentPublished,),
    description="A content document was published (first time, new revision or renamed slug).",
    parameters={"kind": CONTENT_KIND},
)
CONTENT_UNPUBLISHED = Channel(
    address="content.{kind}.unpublished.v1",
    stream="CONTENT",
    messages=(ContentUnpublished,),
    description="A content document was taken down.",
    parameters={"kind": CONTENT_KIND},
)

INQUIRY_SUBMITTED = Channel(
    address="inquiries.inquiry.submitted.v1",
    stream="INQUIRIES",
    messages=(InquirySubmitted,),
    description="A patient submitted an inquiry through a third-party site.",
)
INQUIRY_STATUS_CHANGED = Channel(
    address="inquiries.inquiry.status_changed.v1",
    stream="INQUIRIES",
    messages=(InquiryStatusChanged,),
    description="An inquiry moved to another state of its lifecycle.",
)

CHANNELS: tuple[Channel, ...] = (
    CONTENT_PUBLISHED,
    CONTENT_UNPUBLISHED,
    INQUIRY_SUBMITTED,
    INQUIRY_STATUS_CHANGED,
)


def stream_named(name: str) -> StreamSpec:
    for spec in STREAMS:
        if spec.name == name:
            return spec
    raise KeyError(name)
